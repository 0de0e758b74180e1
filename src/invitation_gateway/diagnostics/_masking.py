"""What `check-config` may show of a secret, and the secret values its lines are scrubbed of.

Credentials are masked to their kind and at most their last 4 characters, URLs lose their
password, and every line of the report is scrubbed of every secret value the configuration
holds (as written and percent-decoded), whatever a driver put in an error message.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from ..connections_file import NamedConnection
from ..settings import ClerkSettings, Settings

# Prefixes that say what a secret is (a test or live Clerk key, a C1 client secret), not what
# it holds: shown, with at most the last 4 characters of a long enough remainder.
_PUBLIC_PREFIXES = ("sk_test_", "sk_live_", "secret-token:conductorone.com:v1:")
_SHORTEST_SCRUBBED = 4  # shorter "secrets" would mangle every line they happen to occur in


def mask(secret: str) -> str:
    """A secret as it may be shown: `sk_live_…abcd` (long ones), `sk_test_***`, `***`."""
    prefix = next((p for p in _PUBLIC_PREFIXES if secret.startswith(p)), "")
    rest = secret[len(prefix) :]
    # The last 4 characters tell two keys apart; shown only when at least 12 others stay hidden.
    return f"{prefix}…{rest[-4:]}" if len(rest) >= 16 else f"{prefix}***"


def mask_url(url: str) -> str:
    """`url` with its password (user-info or `?password=`) replaced by `***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if has_password else netloc
    query = parts.query
    if "password" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def scrub(text: str, secret_values: Sequence[str]) -> str:
    """`text` with every secret value replaced by `***`, longest first."""
    for value in sorted(secret_values, key=len, reverse=True):
        if len(value) >= _SHORTEST_SCRUBBED:
            text = text.replace(value, "***")
    return text


def secret_values(settings: Settings, named: Sequence[NamedConnection]) -> tuple[str, ...]:
    """Every secret the configuration holds, as written and percent-decoded."""
    found: list[str] = []
    for config in (settings.clerk, settings.conductorone, *(n.settings for n in named)):
        if isinstance(config, ClerkSettings):
            found.append(plain(config.secret_key) or "")
        else:
            found += [plain(config.token) or "", plain(config.client_secret) or ""]
    for url in (plain(settings.redis_url), plain(settings.database_url)):
        if url:
            parts = urlsplit(url)
            found += [parts.password or ""]
            found += [v for k, v in parse_qsl(parts.query) if k == "password"]
    return tuple({form for value in found if value for form in (value, unquote(value))})


def plain(secret: SecretStr | None) -> str | None:
    """The value behind a secret setting, or None when unset."""
    return secret.get_secret_value() if secret is not None else None
