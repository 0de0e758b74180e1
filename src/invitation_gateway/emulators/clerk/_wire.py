"""Clerk wire conventions shared by the application and organization invitation endpoints.

Timestamps are Unix milliseconds (clerk-notes.md §1.5); lists are ordered by `[+|-]field` and cut
by `limit`/`offset` (§2.3, §3.3); a pending invitation past `expires_at` reads as `expired` (§4.3).
Stored invitation dicts may hold emulator bookkeeping under keys starting with `_`; `public_view`
drops them, so they never reach a response.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from invitation_gateway.emulators.clerk._params import query_int

ACCOUNTS_URL = "https://sandbox.accounts.dev"
"""Where invitation links point (a Clerk development instance's Account Portal domain)."""

DEFAULT_EXPIRY_DAYS = 30  # "By default, the invitation expires after 30 days." (notes §2.1, §3.1)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def expires_at(created: datetime, expires_in_days: int | None) -> int:
    return ms(created + timedelta(days=expires_in_days or DEFAULT_EXPIRY_DAYS))


def effective_status(invitation: Mapping[str, Any], now_ms: int) -> str:
    status = str(invitation["status"])
    expiry = invitation.get("expires_at")
    if status == "pending" and expiry is not None and expiry <= now_ms:
        return "expired"
    return status


def public_view(invitation: Mapping[str, Any], status: str) -> dict[str, Any]:
    view = {key: value for key, value in invitation.items() if not key.startswith("_")}
    view["status"] = status
    return view


def ordered(items: Iterable[dict[str, Any]], field: str, descending: bool) -> list[dict[str, Any]]:
    """Sorted by `field` (emails case-insensitively, missing values first), then creation and id."""

    def key(item: Mapping[str, Any]) -> tuple[Any, ...]:
        value = item.get(field)
        value = value.casefold() if isinstance(value, str) else value
        present = value is not None
        return (present, value if present else 0, item["created_at"], item["id"])

    return sorted(items, key=key, reverse=descending)


def limit_offset(query: Mapping[str, list[str]]) -> tuple[int, int]:
    # LimitParameter 1..500 default 10, OffsetParameter >= 0 (clerk-notes.md §2.3)
    return query_int(query, "limit", 10, 1, 500), query_int(query, "offset", 0, 0, None)


def role_name(role: str) -> str:
    """`org:admin` -> `Admin`, `org:billing_manager` -> `Billing Manager`."""
    return role.removeprefix("org:").replace("_", " ").title()


def ticket_url(redirect_url: str | None) -> str:
    url = f"{ACCOUNTS_URL}/v1/tickets/accept?ticket={secrets.token_urlsafe(24)}"
    return url + (f"&redirect_url={quote(redirect_url, safe='')}" if redirect_url else "")
