"""Why a request's credentials were refused: one exception, one short reason each.

```
Unauthenticated(reason)      HTTP 401, GraphQL code UNAUTHENTICATED, no upstream call
  reason  the credentials     "missing credentials", "ambiguous credentials", "unsupported scheme",
                              "jwt not accepted", "unknown api key"
          the token           "malformed token", "unsupported algorithm", "missing exp",
                              "expired", "not yet valid", "missing subject"
          the signature       "unknown key", "bad signature", "keys unavailable"
          the claims          "wrong issuer", "wrong audience", "unauthorized party"
```

The reason is safe to log and to return: it never carries a token, a key or a claim value.
"""

from __future__ import annotations

from typing import Literal

UnauthenticatedReason = Literal[
    "missing credentials",
    "ambiguous credentials",
    "unsupported scheme",
    "jwt not accepted",
    "unknown api key",
    "malformed token",
    "unsupported algorithm",
    "missing exp",
    "expired",
    "not yet valid",
    "missing subject",
    "unknown key",
    "bad signature",
    "keys unavailable",
    "wrong issuer",
    "wrong audience",
    "unauthorized party",
]


class Unauthenticated(Exception):
    """The request carries no usable credentials; `reason` says why in a short phrase."""

    def __init__(self, reason: UnauthenticatedReason) -> None:
        super().__init__(reason)
        self.reason: UnauthenticatedReason = reason
