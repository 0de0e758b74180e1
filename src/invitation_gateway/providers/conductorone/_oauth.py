"""ConductorOne OAuth client credentials: the `httpx.Auth` that gets and keeps an access token.

Credential parsing and the assertion itself live in `conductorone_credentials`.

Everything here follows `shared/upstream/conductorone-notes.md` §5, which reads C1's own SDKs:

- the client id `<random>@<host>/<use case>` names the tenant host (§5.1);
- the client secret `secret-token:conductorone.com:v1:<base64url JWK>` holds an Ed25519 private
  key (§5.1), which signs a short-lived client assertion, a compact JWS (§5.2);
- the assertion is exchanged at `POST https://<host>/auth/v1/token` for a bearer token (§5.3),
  which is reused until shortly before `expires_in` runs out (§5.4): the last fifth of its
  lifetime, at most 30 s (`refresh_margin`).

`ClientCredentialsAuth` sends the token request through the client it authenticates, so the
exchange uses the same pool, timeouts and injected transport as the API calls. A failed exchange
raises `TokenError`; `UpstreamClient.send` turns it into a domain error. Neither the secret nor
any part of it ever goes into an exception message or a log line.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import jwt

from ..answers import parse_retry_after
from ..auth import AuthFlowError
from ._credentials import (
    ASSERTION_TYPE,
    TOKEN_PATH,
    client_assertion,
    parse_client_secret,
    without_port,
)

MAX_REFRESH_MARGIN = 30.0
"""The most seconds before expiry at which a cached token is replaced."""
REFRESH_SHARE = 5
"""A token is replaced when `1 / REFRESH_SHARE` of its lifetime is left (capped as above)."""

# TS-TOK strips a leading "bearer" / "bearer:" from `access_token` without saying why (§5.4).
_BEARER_PREFIX = re.compile(r"^\s*bearer\s*:*", re.IGNORECASE)
_MAX_RETRY_WAIT = 5.0
_DEFAULT_RETRY_WAIT = 1.0
_LOG_EXCERPT = 200


class TokenError(AuthFlowError):
    """The token endpoint gave no usable access token. The message holds the status, C1's
    request id and a short excerpt of the answer, never the client secret."""


def refresh_margin(lifetime: float) -> float:
    """Seconds before expiry at which a token that lives `lifetime` seconds is replaced.

    The margin covers one API request between taking the token and C1 checking it; the token
    request's own round trip is already counted, as the lifetime runs from when it was sent.
    A fixed margin (the Go SDK's 10 s, §5.4, or our former 30 s) makes a token that lives no
    longer than it single-use: every API call would fetch a token. A fifth of the lifetime keeps
    every token for 80 % of its life, and 1 s of a 5 s token still covers a slow request where a
    tenth (0.5 s) would not; the 30 s cap (reached at 150 s) keeps long tokens: an hour-long one
    is reused for 59.5 minutes. Should a request still arrive late, its 401 refreshes once.
    """
    return min(MAX_REFRESH_MARGIN, lifetime / REFRESH_SHARE)


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    generation: int  # 1 for the first token obtained, then one more for each replacement
    obtained_at: float  # on the auth's clock, when its token request was sent
    lifetime: float  # `expires_in`, seconds

    @property
    def expires_at(self) -> float:
        return self.obtained_at + self.lifetime

    @property
    def refresh_at(self) -> float:
        return self.expires_at - refresh_margin(self.lifetime)


class ClientCredentialsAuth(httpx.Auth):
    """Bearer tokens from C1's client-credentials exchange, fetched once and reused (async only).

    - A cached token is used until `refresh_margin(lifetime)` seconds before it expires.
    - Single flight: when it is missing or stale, requests queue on one lock and only the first
      fetches; the others then take the token it got. A token obtained after the one a request
      gave up on is taken unless it has really expired, even inside its margin: it is as fresh
      as any that request could fetch.
    - A 429 from the token endpoint is retried once after `Retry-After` (at most 5 s; c1i retries
      token 429s, §5.4); a longer wait, or a second 429, is a `TokenError` with `retry_after`.
    - A 401 from the API drops the token (only if it is still the one that failed: a concurrent
      request may already have replaced it) and the request is retried once with a newer one.
      However many requests get a 401 with the same token, and whenever their answers arrive,
      one new token is fetched for all of them.
    """

    # Declared per httpx's contract for flows that look at answers. This flow reads only the
    # token endpoint's answer itself; the API answer stays streamed, so the caller's size cap
    # still applies to it.
    requires_response_body = True

    def __init__(
        self,
        *,
        client_id: str,
        key: jwt.PyJWK,
        token_url: str,
        audience: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client_id = client_id
        self._key = key
        self._token_url = token_url
        self._audience = audience
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        self._generation = 0  # of the last token obtained
        self._lock = asyncio.Lock()

    @classmethod
    def for_base_url(
        cls,
        *,
        client_id: str,
        client_secret: str,
        base_url: str,
        clock: Callable[[], float] = time.time,
    ) -> ClientCredentialsAuth:
        """The auth for a tenant URL: token at `<base_url>/auth/v1/token`, audience its host."""
        return cls(
            client_id=client_id,
            key=parse_client_secret(client_secret),
            token_url=base_url.rstrip("/") + TOKEN_PATH,
            audience=without_port(urlsplit(base_url).netloc),
            clock=clock,
        )

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise NotImplementedError("ClientCredentialsAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        refused: _Token | None = None  # the token the API answered 401 to
        for _attempt in range(2):  # the request, then one retry after a 401
            if refused is None:
                token = self._reusable()
                given_up = self._generation  # none, or the newest is stale: wait for a newer one
            else:
                if self._token is refused:
                    self._token = None  # requests arriving now wait for the next one
                given_up = refused.generation
                token = self._newer_than(given_up)
            if token is None:
                async with self._lock:
                    token = self._newer_than(given_up)  # fetched while this request waited
                    if token is None:
                        # Async generators cannot delegate with `yield from`: the exchange is
                        # inline. One retry of a 429, with a new assertion.
                        started = self._clock()
                        answer = yield self._token_request(request, started)
                        if answer.status_code == 429:
                            wait = self._retry_wait(answer)
                            if wait is not None:
                                await self._sleep(wait)
                                started = self._clock()
                                answer = yield self._token_request(request, started)
                        token = await self._accept(answer, started)
            request.headers["Authorization"] = f"Bearer {token.value}"
            response = yield request
            if response.status_code != 401:
                return
            refused = token

    def _reusable(self) -> _Token | None:
        """The cached token, unless it is missing or inside its refresh margin."""
        token = self._token
        return token if token is not None and self._clock() < token.refresh_at else None

    def _newer_than(self, generation: int) -> _Token | None:
        """The cached token if it was obtained after `generation` and has not expired."""
        token = self._token
        if token is None or token.generation <= generation or self._clock() >= token.expires_at:
            return None
        return token

    def _token_request(self, original: httpx.Request, now: float) -> httpx.Request:
        # Exactly the four form fields of §5.3, and no Authorization header: C1 takes client
        # credentials in the body only (SPEC's `oauth` security scheme).
        form = {
            "client_id": self._client_id,
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(self._client_id, self._key, self._audience, now),
        }
        headers = {"Accept": "application/json"}
        if "User-Agent" in original.headers:
            headers["User-Agent"] = original.headers["User-Agent"]
        # A request built here does not get the client's timeouts: carry the original's over.
        extensions = (
            {"timeout": original.extensions["timeout"]} if "timeout" in original.extensions else {}
        )
        return httpx.Request(
            "POST", self._token_url, data=form, headers=headers, extensions=extensions
        )

    def _retry_after(self, answer: httpx.Response) -> float | None:
        return parse_retry_after(answer.headers.get("Retry-After"), now=self._clock())

    def _retry_wait(self, answer: httpx.Response) -> float | None:
        """Seconds to wait before retrying a token 429; None when it asks for too long."""
        wait = self._retry_after(answer)
        if wait is None:
            return _DEFAULT_RETRY_WAIT
        return wait if wait <= _MAX_RETRY_WAIT else None

    async def _accept(self, answer: httpx.Response, started: float) -> _Token:
        """The access token in a token answer, now cached; TokenError for anything else."""
        await answer.aread()
        status = answer.status_code
        request_id = answer.headers.get("request-id", "-")
        if status != 200:
            # C1's error body for the token endpoint is NOT FOUND in the notes (§5.4, §7.6):
            # it is logged (an excerpt), never parsed.
            excerpt = answer.content[:_LOG_EXCERPT].decode("utf-8", "replace")
            raise TokenError(
                f"token endpoint answered HTTP {status} (request id {request_id}): {excerpt!r}",
                status=status,
                retry_after=self._retry_after(answer) if status == 429 else None,
            )
        try:
            data = json.loads(answer.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        raw = data.get("access_token")
        value = _BEARER_PREFIX.sub("", raw).strip() if isinstance(raw, str) else ""
        if not value:
            # The Go SDK refuses an empty access token the same way (§5.4).
            raise TokenError(
                f"token endpoint answered HTTP 200 without an access token (request id {request_id})",
                status=status,
            )
        # A missing or unreadable `expires_in` counts as 0, as in the Go SDK: the token serves
        # the request that fetched it and is replaced on the next one.
        self._generation += 1
        self._token = _Token(value, self._generation, started, _seconds(data.get("expires_in")))
        return self._token


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return max(float(value), 0.0)
    # proto3 JSON writes 64-bit integers as strings (§6.4); accept that form too.
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip())
    return 0.0
