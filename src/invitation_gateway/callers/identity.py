"""Who is calling: the verified identity every request carries on the GraphQL context.

```
Caller
  kind     "jwt" (a verified bearer token), "api_key" (a key from the keys file), "dev"
           (GATEWAY_AUTH__MODE=disabled: the development caller), "anonymous" (the GraphiQL
           page, which executes nothing)
  name     the JWT's `sub`, the key's name, or "dev"
  claims   the verified JWT's claims (empty for API keys and dev)
  id       "jwt:<sub>", "api_key:<name>" or "dev": what logs, idempotency scopes and the
           audit log record
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CallerKind = Literal["jwt", "api_key", "dev", "anonymous"]


@dataclass(frozen=True, slots=True)
class Caller:
    """A caller whose credentials were verified (or the development caller)."""

    kind: CallerKind
    name: str
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.kind if self.kind in ("dev", "anonymous") else f"{self.kind}:{self.name}"

    @property
    def clerk_user_id(self) -> str | None:
        """The Clerk user behind a Clerk session token (`sub` = `user_…`), else None."""
        return self.name if self.kind == "jwt" and self.name.startswith("user_") else None


DEV_CALLER = Caller("dev", "dev")
"""Every request's caller when authentication is disabled (the sandbox's default)."""

NOBODY = Caller("anonymous", "anonymous")
"""The caller of what executes nothing (the GraphiQL page): no policy rule names it."""
