"""From a request's credential headers to its verified caller (DESIGN.md "Fixed formats", Callers).

```
Authorization: Bearer <jwt>       a JWT, checked by the JwtVerifier   -> jwt:<sub>
Authorization: Bearer igw_...     an API key (the prefix tells)       -> api_key:<name>
X-API-Key: igw_...                an API key                          -> api_key:<name>
```
Exactly one of the two headers must be present; anything else raises Unauthenticated with a
short reason ("missing credentials", "ambiguous credentials", "unsupported scheme", ...).
"""

from __future__ import annotations

from .api_keys import KEY_PREFIX, ApiKeys
from .errors import Unauthenticated
from .identity import Caller
from .jwt import JwtVerifier

MAX_HEADER_LENGTH = 8192


class Authenticator:
    """Checks credentials against the JWT verifier and the API keys configured (either may be None)."""

    def __init__(self, jwt: JwtVerifier | None, api_keys: ApiKeys | None) -> None:
        self._jwt = jwt
        self._api_keys = api_keys

    async def authenticate(self, authorization: str | None, x_api_key: str | None) -> Caller:
        """The caller the headers' credentials prove; Unauthenticated(reason) otherwise."""
        for value in (authorization, x_api_key):
            if value is not None and len(value) > MAX_HEADER_LENGTH:
                raise Unauthenticated("malformed token")
        if authorization is not None and x_api_key is not None:
            raise Unauthenticated("ambiguous credentials")
        if x_api_key is not None:
            return self._api_key(x_api_key.strip())
        if authorization is None:
            raise Unauthenticated("missing credentials")
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 9110 11.1)
            raise Unauthenticated("unsupported scheme")
        credentials = credentials.strip()
        if not credentials:
            raise Unauthenticated("malformed token")
        if credentials.startswith(KEY_PREFIX):
            return self._api_key(credentials)
        if self._jwt is None:
            raise Unauthenticated("jwt not accepted")
        return await self._jwt.verify(credentials)

    def _api_key(self, key: str) -> Caller:
        caller = self._api_keys.identify(key) if self._api_keys is not None else None
        if caller is None:
            raise Unauthenticated("unknown api key")
        return caller
