"""The opaque cursor of a merged invitation list: where each target's walk stands.

A cursor records, per target, the upstream position of the page being read (ConductorOne page
token, Clerk offset), how many of that page's items are consumed, the id and sort key of the
last invitation returned from it (so a page re-read after invitations were added resumes right
after that invitation, and one re-read after Clerk offsets moved drops what was already
returned), and whether the target is exhausted. It also records a fingerprint of the
query, so a cursor cannot be replayed against other targets or filters. Decoding is strict:
anything `encode` did not produce is an INVALID_INPUT error on `after`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.errors import InvalidInvitationInput

_VERSION = 1
_MAX_LENGTH = 16_384
_MAX_POSITION = 1_024

SortKey = tuple[datetime, str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TargetState:
    position: str | None = None  # upstream page position; None = first page
    skip: int = 0  # items of that page already consumed
    last: SortKey | None = None  # sort key of the last invitation returned from this target
    done: bool = False
    last_id: str | None = None  # upstream id of that invitation: where to resume in a re-read page


def fingerprint(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(query_fingerprint: str, states: dict[str, TargetState]) -> str:
    payload = {
        "v": _VERSION,
        "q": query_fingerprint,
        "t": {
            key: [
                state.position,
                state.skip,
                [(state.last[0] - _EPOCH) // _MICROSECOND, state.last[1]] if state.last else None,
                state.done,
                state.last_id,
            ]
            for key, state in states.items()
        },
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, query_fingerprint: str, keys: list[str]) -> dict[str, TargetState]:
    invalid = InvalidInvitationInput.at(("after",), "is not a cursor of this list")
    if not 0 < len(cursor) <= _MAX_LENGTH:
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not (
        isinstance(payload, dict)
        and payload.get("v") == _VERSION
        and payload.get("q") == query_fingerprint
        and isinstance(payload.get("t"), dict)
        and sorted(payload["t"]) == sorted(keys)
    ):
        raise invalid
    states = {}
    for key, value in payload["t"].items():
        state = _state(value)
        if state is None:
            raise invalid
        states[key] = state
    return states


def _state(value: object) -> TargetState | None:
    if not (isinstance(value, list) and len(value) == 5):
        return None
    position, skip, last, done, last_id = value
    if last_id is not None and not (isinstance(last_id, str) and 0 < len(last_id) <= 256):
        return None
    if position is not None and not (
        isinstance(position, str) and 0 < len(position) <= _MAX_POSITION
    ):
        return None
    if not (isinstance(skip, int) and not isinstance(skip, bool) and 0 <= skip <= 10_000):
        return None
    if not isinstance(done, bool):
        return None
    key: SortKey | None = None
    if last is not None:
        if not (
            isinstance(last, list)
            and len(last) == 2
            and isinstance(last[0], int)
            and not isinstance(last[0], bool)
            and isinstance(last[1], str)
            and len(last[1]) <= 256
        ):
            return None
        try:
            key = (_EPOCH + last[0] * _MICROSECOND, last[1])
        except (OverflowError, OSError, ValueError):
            return None
    return TargetState(position, skip, key, done, last_id)
