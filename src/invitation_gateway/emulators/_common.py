"""Machinery shared by the vendor emulators: recording, injected faults and latency, control routes.

Each emulator is a Starlette app with one catch-all route. A request goes through these steps:

    /__emulator__/*  -> control routes (`_control.py`); not recorded, never faulted
    everything else  -> recorded in `emulator.requests`
                     -> delayed by `latency` + `latency_by_target[target]`
                     -> handled by the next matching `Fault`, if any (`_faults.py`): answered
                        instead of the handler, or after it (`after`), or dropped after it (`drop`)
                     -> otherwise handled by the vendor subclass (auth, routing, handlers)

Vendor routing works on the raw path as received (percent-escapes intact), see `_routing.py`.
Creation and update times come from `stamp()`, which never gives the same instant twice, so two
invitations never share a `created_at`, even on a frozen clock.
"""

from __future__ import annotations

import abc
import asyncio
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ._control import control, is_control_path
from ._faults import DroppedResponse, Fault, FaultQueue, fault_json, trickle

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Clock = Callable[[], datetime]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH = 1_400_000_000
# Deliberately simple and predictable: local@domain.tld with no spaces. The vendors' exact email
# rules are not documented (conductorone-notes.md §2.1; clerk-notes.md §2.1).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it."""

    method: str
    path: str  # raw path, percent-escapes intact, no query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    json: Any | None  # the parsed body when it is valid JSON, else None


Handler = Callable[[RecordedRequest, Mapping[str, str]], Any]
"""A vendor handler: takes the request and the decoded path parameters, returns a JSON payload
(answered with 200) or raises the vendor's error type."""


class ManualClock:
    """A clock that only moves when told to; pass it as `clock=` to drive expiry in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def new_ksuid(at: datetime) -> str:
    """A KSUID (27 base62 chars: 4-byte timestamp + 16 random bytes), like C1 and Clerk ids."""
    seconds = min(max(int(at.timestamp()) - _KSUID_EPOCH, 0), 2**32 - 1)
    number = int.from_bytes(seconds.to_bytes(4, "big") + secrets.token_bytes(16), "big")
    chars = []
    while number:
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars)).rjust(27, "0")


def is_valid_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime (from a test's clock or seed call) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_jsonable(value: Any) -> Any:
    """Sets become sorted lists, so that state holding sets can be dumped as JSON."""
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(item) for item in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def parse_json(body: bytes) -> Any | None:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


class Emulator(abc.ABC):
    """Base of the vendor emulators: holds the recording, fault and latency switches and the app."""

    SETTINGS: ClassVar[Mapping[str, tuple[object, ...]]] = {}
    """Behaviour switches settable by `configure` and `POST /__emulator__/settings`:
    attribute name -> the values it may take."""

    TIME_STEP = timedelta(milliseconds=1)
    """How far `stamp()` moves past the last time it gave (Clerk's timestamps are milliseconds)."""

    def __init__(self, *, clock: Clock | None) -> None:
        self._clock = clock or utc_now
        self._last_stamp: datetime | None = None
        self._initial_settings: dict[str, object] = {}
        self.requests: list[RecordedRequest] = []
        self.faults = FaultQueue()
        self.latency: float = 0.0
        self.latency_by_target: dict[str, float] = {}
        # One catch-all route for every method; vendor routing happens on the raw path.
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_METHODS)])

    def now(self) -> datetime:
        return as_utc(self._clock())

    def stamp(self) -> datetime:
        """Now, but at least `TIME_STEP` after the previous stamp: a creation or update time."""
        moment = self.now()
        if self._last_stamp is not None and moment < self._last_stamp + self.TIME_STEP:
            moment = self._last_stamp + self.TIME_STEP
        self._last_stamp = moment
        return moment

    def settings(self) -> dict[str, object]:
        """The current value of every switch in `SETTINGS`."""
        return {name: getattr(self, name) for name in self.SETTINGS}

    def configure(self, **values: object) -> None:
        """Set switches, checking every name and value before changing any (ValueError)."""
        for name, value in values.items():
            allowed = self.SETTINGS.get(name)
            if allowed is None:
                raise ValueError(f"unknown setting {name!r}; settings: {sorted(self.SETTINGS)}")
            if value not in allowed or type(value) not in {type(option) for option in allowed}:
                raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
        for name, value in values.items():
            setattr(self, name, value)

    def _remember_settings(self) -> None:
        """Subclasses call this at the end of `__init__`: `reset` goes back to these values."""
        self._initial_settings = self.settings()

    def reset(self) -> None:
        """Back to the state right after construction: no data, faults or latency; the settings
        the emulator was constructed with."""
        self.requests.clear()
        self.faults.clear()
        self.latency = 0.0
        self.latency_by_target.clear()
        self._last_stamp = None
        for name, value in self._initial_settings.items():
            setattr(self, name, value)

    @abc.abstractmethod
    def state(self) -> dict[str, Any]:
        """The vendor data, for `GET /__emulator__/state`."""

    @abc.abstractmethod
    def expire_invitation(self, invitation_id: str) -> dict[str, Any]:
        """Make a pending invitation expire now; KeyError if unknown, NotPending if not pending."""

    @abc.abstractmethod
    def public_view(self, invitation: Mapping[str, Any]) -> dict[str, Any]:
        """A stored invitation as the vendor answers it (status read now, no bookkeeping)."""

    @abc.abstractmethod
    def _handle(self, request: RecordedRequest) -> Response:
        """Auth, routing and the vendor handler; faults and latency have already been applied."""

    @abc.abstractmethod
    def _target_of(self, request: RecordedRequest) -> str | None:
        """The `latency_by_target` key a request belongs to, if any."""

    @abc.abstractmethod
    def _default_fault_body(self, status: int) -> bytes:
        """The vendor's error body for a fault added without one."""

    def _fault_headers(self) -> dict[str, str]:
        """Headers the vendor puts on every response, added under the fault's own headers."""
        return {}

    def control_state(self) -> dict[str, Any]:
        state = {
            **self.state(),
            "faults": [fault_json(fault) for fault in self.faults],
            "latency": self.latency,
            "latency_by_target": self.latency_by_target,
            "request_count": len(self.requests),
            "settings": self.settings(),
        }
        jsonable: dict[str, Any] = to_jsonable(state)
        return jsonable

    async def _endpoint(self, request: Request) -> Response:
        path = _raw_path(request)
        if is_control_path(path):
            return await control(self, request, path)
        recorded = await _record(request, path)
        self.requests.append(recorded)
        target = self._target_of(recorded)
        delay = self.latency + (self.latency_by_target.get(target, 0.0) if target else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self.faults.take(recorded.method, recorded.path)
        if fault is None:
            return self._handle(recorded)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            return DroppedResponse(self._handle(recorded))
        if fault.status is None:
            return self._handle(recorded)
        if fault.after:
            self._handle(recorded)  # the upstream acts; its answer is lost
        return self._fault_response(fault)

    def _fault_response(self, fault: Fault) -> Response:
        status = fault.status if fault.status is not None else 500  # FaultQueue never stores one
        body = fault.body if fault.body is not None else self._default_fault_body(status)
        headers = {**self._fault_headers(), **fault.headers}
        if not any(name.lower() == "content-type" for name in headers):
            is_json = parse_json(body) is not None
            headers["content-type"] = "application/json" if is_json else "text/plain; charset=utf-8"
        if fault.trickle is not None:
            return StreamingResponse(
                trickle(body, fault.trickle), status_code=status, headers=headers
            )
        return Response(body, status_code=status, headers=headers)


def _raw_path(request: Request) -> str:
    """The raw path relative to where the app is mounted (the sandbox mounts it under a prefix)."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        path = raw.decode("latin-1").split("?", 1)[0]
    else:
        path = quote(request.scope["path"])  # a server that gives no raw_path: re-escape
    root = quote(request.scope.get("root_path", ""))
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return "/" if root and path == root else path


async def _record(request: Request, path: str) -> RecordedRequest:
    body = await request.body()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RecordedRequest(
        method=request.method,
        path=path,
        query=parse_qs(request.url.query, keep_blank_values=True),
        headers=headers,
        body=body,
        json=parse_json(body) if body else None,
    )
