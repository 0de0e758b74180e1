"""The record of one request, filled in as it runs and written out once when it ends.

The web layer opens a `RequestRecord` per request and keeps it in a context variable, so
that the layers below can add to it without being handed it: the schema notes the operation,
the caller and the error codes; the service notes idempotent replays and refused budgets; the
layers that refuse a request before GraphQL runs (401, 413, 429, malformed) note their code. At
the end, the web layer turns it into one log line, the request metrics and the span's name.

Codes are ranked to give a request one `outcome`: `ok`, else its worst code, where a bug
(`INTERNAL`) outranks an upstream or dependency failure, which outranks what the caller can
fix. The log line's level follows: INFO, WARNING for system errors, ERROR for a bug.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept when it is short and plain (UUIDs, ULIDs, W3C-style ids, base64url):
# it goes into every log line, so nothing that could forge or break a line is accepted.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

_BUG = "INTERNAL"
_SYSTEM = frozenset({"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT"})


def request_id(sent: str | None) -> str:
    """The caller's `X-Request-ID` when it is sane, else a fresh one."""
    if sent is not None and _SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


@dataclass(slots=True)
class RequestRecord:
    """What one request did, for its log line, metrics and span."""

    request_id: str
    status: int = 500  # the HTTP status answered (500 until an answer starts)
    caller: str = "-"
    operation_name: str | None = None
    operation_type: str | None = None
    root_fields: tuple[str, ...] = ()
    codes: list[str] = field(default_factory=list)
    replays: int = 0
    rate_limited: list[str] = field(default_factory=list)  # which budgets refused ("creates")
    span: object | None = None  # the request's span, when tracing is on

    def note(self, code: str) -> None:
        """One error code this request answered with (a user error or a top-level error)."""
        self.codes.append(code)

    @property
    def operation(self) -> str:
        """A low-cardinality name: the root field, `multiple`, or `-` before GraphQL ran."""
        if len(self.root_fields) == 1:
            return self.root_fields[0]
        return "multiple" if self.root_fields else "-"

    def outcome(self, status: int) -> str:
        """`ok`, or the request's worst code (`BAD_REQUEST` for a 4xx nobody explained)."""
        codes = self.codes or (["BAD_REQUEST"] if status >= 400 else [])
        if not codes:
            return "ok"
        return max(codes, key=_rank)

    def level(self, outcome: str) -> int:
        rank = _rank(outcome)
        return (logging.INFO, logging.WARNING, logging.ERROR)[rank]


def _rank(code: str) -> int:
    if code == _BUG:
        return 2
    return 1 if code in _SYSTEM or code.endswith("_UNAVAILABLE") else 0


_CURRENT: ContextVar[RequestRecord | None] = ContextVar("gateway_request", default=None)


def current_request() -> RequestRecord | None:
    """The record of the request being served here, if any (None outside a request)."""
    return _CURRENT.get()


def note_refusal(code: str, *, budget: str | None = None) -> None:
    """A refusal in front of GraphQL, by the layer that answered it (and the budget it spent)."""
    record = _CURRENT.get()
    if record is not None:
        record.note(code)
    if budget is not None:
        note_budget(budget)


def note_budget(budget: str) -> None:
    """A rate-limit budget the current request ran out of (`creates`, `requests`)."""
    record = _CURRENT.get()
    if record is not None:
        record.rate_limited.append(budget)


def open_request(record: RequestRecord) -> object:
    """Make `record` the current one; pass the returned token to `close_request`."""
    return _CURRENT.set(record)


def close_request(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]
