"""The Redis server behind `GATEWAY_REDIS_URL`, for the rate limiter and the idempotency store.

Opening a client that fails fast, and reporting the server safely: where it is without its
credentials, the passwords its URL carries, and a failure's message with them scrubbed: what a
log line or a start-up error may say about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis


def open_client(url: str, timeout: float) -> Redis:
    """A client on a new connection pool to `url`; no I/O yet. Connecting and each reply wait
    at most `timeout` seconds (a `socket_timeout` in the URL wins): a hung Redis fails fast."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A Redis server as messages name it: where, and the passwords scrubbed from them."""

    location: str = "Redis"
    passwords: tuple[str, ...] = ()

    @classmethod
    def at(cls, url: str) -> RedisServer:
        return cls(f"Redis at {server_location(url)}", url_passwords(url))

    def unavailable(self, exc: BaseException) -> str:
        """`Redis at <where> is unavailable (<error, passwords scrubbed>)`."""
        return f"{self.location} is unavailable ({failure(exc, self.passwords)})"


UNNAMED = RedisServer()
"""A server known only as "Redis" (a client built by hand, as tests do)."""


def server_location(url: str) -> str:
    """`url` without user, password or query (`redis://cache:6379/0`)."""
    parts = urlsplit(url)  # `Redis.from_url` has already refused a malformed one
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def url_passwords(url: str) -> tuple[str, ...]:
    """The passwords `url` carries (user-info or `?password=`), as written and decoded."""
    parts = urlsplit(url)
    found = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    return tuple({form for secret in found if secret for form in (secret, unquote(secret))})


def failure(exc: BaseException, passwords: tuple[str, ...]) -> str:
    """`ConnectionError: <message>`, with every one of `passwords` replaced by `***`."""
    detail = str(exc)
    for password in passwords:
        detail = detail.replace(password, "***")
    return f"{type(exc).__name__}: {detail}"
