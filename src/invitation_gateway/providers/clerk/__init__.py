"""Clerk application and organization invitations: two adapters over one Clerk instance.

```
clerk/
  _connection.py   open_connection(config, transport): the client (API version pinned), adapters
  _application.py  ClerkApplication: the port for CLERK_APPLICATION targets
  _organization.py ClerkOrganization: the port for CLERK_ORGANIZATION targets
  _common.py       what both share: answers, errors, offset pages, chunked bulk creates
  _wire.py         Clerk's JSON (snake_case, Unix milliseconds) and error codes -> the domain
```
"""

from ._application import ClerkApplication
from ._connection import ClerkConfig, open_connection
from ._organization import ClerkOrganization

__all__ = ["ClerkApplication", "ClerkConfig", "ClerkOrganization", "open_connection"]
