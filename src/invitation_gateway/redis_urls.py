"""Reporting a Redis server safely, for the rate limiter and the idempotency store alike.

Where it is without its credentials, the passwords its URL carries, and a failure's message with
them scrubbed: what a log line or a start-up error may say about the server behind
`GATEWAY_REDIS_URL`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit


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
