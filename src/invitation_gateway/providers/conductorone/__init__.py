"""ConductorOne local-directory invitations: one adapter, its OAuth client, its wire format.

```
conductorone/
  _connection.py   open_connection(config, transport): credentials, client, adapter, probe
  _adapter.py      ConductorOneDirectory: the port for CONDUCTORONE_DIRECTORY targets
  _wire.py         proto3 JSON models and the mapping to and from the domain
  _oauth.py        client credentials: a signed assertion exchanged for a cached token
  _credentials.py  the client id / secret shapes, the assertion, the token path
```
"""

from ._adapter import ConductorOneDirectory
from ._connection import ConductorOneConfig, open_connection
from ._credentials import check_client_credentials

__all__ = [
    "ConductorOneConfig",
    "ConductorOneDirectory",
    "check_client_credentials",
    "open_connection",
]
