"""Clerk application and organization invitations: two adapters over one Clerk instance.

```
clerk/
  _connection.py   open_connection(config, transport): the client (API version pinned), adapters
  _adapters.py     ClerkApplication and ClerkOrganization: the port for their target kinds
  _common.py       what both share: answers, errors, offset pages, chunked bulk creates
  _wire.py         Clerk's JSON (snake_case, Unix milliseconds) and error codes -> the domain
```
"""

from ._adapters import ClerkApplication, ClerkOrganization
from ._connection import ClerkConfig, open_connection

__all__ = ["ClerkApplication", "ClerkConfig", "ClerkOrganization", "open_connection"]
