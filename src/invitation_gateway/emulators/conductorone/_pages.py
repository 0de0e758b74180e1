"""ConductorOne pagination for the emulator: opaque page tokens, page sizes, list payloads.

Search and List answer `{list, nextPageToken}` with both left out when empty (proto3 JSON,
conductorone-notes.md §4, §6.4); page sizes follow DOC-PAGE (10..100, default 25).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from invitation_gateway.emulators.conductorone._wire import INVALID_ARGUMENT, RpcError


class PageTokens:
    """Opaque, tamper-evident page tokens: base64url(JSON position) + '.' + HMAC.

    The position (not an offset) is encoded so that a token stays valid when items are created
    between pages; the HMAC makes any token this emulator did not issue fail to decode.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def encode(self, position: Mapping[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(position, sort_keys=True).encode())
        return f"{payload.decode()}.{self._sign(payload)}"

    def decode(self, token: str) -> dict[str, Any] | None:
        payload, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, self._sign(payload.encode())):
            return None
        try:
            position = json.loads(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError):
            return None
        return position if isinstance(position, dict) else None

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:32]


def paginate(
    items: list[dict[str, Any]],
    key: Callable[[Mapping[str, Any]], list[Any]],
    token: str,
    size: int,
    tokens: PageTokens,
    *,
    listing: str,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], str]:
    """One page of `items` ordered by `key`, resuming after the position `token` encodes.

    A token this emulator did not issue (or issued for another `listing`) is INVALID_ARGUMENT:
    C1 answers "a bad page token" with HTTP 400 (conductorone-notes.md §4).
    """
    ordered = sorted(items, key=key, reverse=descending)
    if token:
        position = tokens.decode(token) or {}
        after = position.get("after") if position.get("listing") == listing else None
        if not isinstance(after, list):
            raise RpcError(INVALID_ARGUMENT, "invalid page token")
        if descending:
            ordered = [item for item in ordered if key(item) < after]
        else:
            ordered = [item for item in ordered if key(item) > after]
    page = ordered[:size]
    more = len(ordered) > size
    return page, tokens.encode({"listing": listing, "after": key(page[-1])}) if more else ""


def list_payload(items: list[dict[str, Any]], next_token: str) -> dict[str, Any]:
    # proto3 JSON: an empty `list` and an empty `nextPageToken` are omitted (notes §4, §6.4)
    payload: dict[str, Any] = {}
    if items:
        payload["list"] = items
    if next_token:
        payload["nextPageToken"] = next_token
    return payload


def page_size(requested: int | None) -> int:
    """DOC-PAGE (conductorone-notes.md §4): 10..100, smaller gives 10, larger 100, default 25."""
    if not requested:
        return 25
    return min(max(requested, 10), 100)
