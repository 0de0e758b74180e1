"""How the gateway authenticates to upstreams: the `httpx.Auth` seam and its error.

Every connection's client takes an `httpx.Auth`: `BearerAuth` for a static credential (Clerk
secret keys, ConductorOne tokens) or a flow that obtains tokens (ConductorOne client
credentials, `conductorone_auth.py`). A flow that cannot obtain a credential raises
`AuthFlowError`, which the upstream client turns into a domain error.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from pydantic import SecretStr


class BearerAuth(httpx.Auth):
    """A static `Authorization: Bearer` credential."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class AuthFlowError(Exception):
    """An auth flow got no usable credential (refused, rate limited, or unreadable).

    `status` is the token endpoint's HTTP status (None when the exchange failed another way);
    `retry_after` is set for a 429 that said how long to wait. The message is for logs and
    never holds a secret.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
