"""Machinery shared by the vendor emulators: recording, injected faults and latency, control routes.

Each emulator is a Starlette app with one catch-all route. A request goes through these steps:

    /__emulator__/*  -> control routes (state dump, add fault, reset); not recorded, never faulted
    everything else  -> recorded in `emulator.requests`
                     -> delayed by `latency` + `latency_by_target[target]`
                     -> answered by the next matching `Fault`, if any (no state change happens)
                     -> otherwise handled by the vendor subclass (auth, routing, handlers)

Vendor routing works on the raw path as received (percent-escapes intact), see `_routing.py`.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ._faults import Fault, FaultQueue, fault_json, trickle

CONTROL_PREFIX = "/__emulator__"
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

    def __init__(self, *, clock: Clock | None) -> None:
        self._clock = clock or utc_now
        self.requests: list[RecordedRequest] = []
        self.faults = FaultQueue()
        self.latency: float = 0.0
        self.latency_by_target: dict[str, float] = {}
        # One catch-all route for every method; vendor routing happens on the raw path.
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_METHODS)])

    def now(self) -> datetime:
        return as_utc(self._clock())

    def reset(self) -> None:
        """Back to the state right after construction: no data, no faults, no latency."""
        self.requests.clear()
        self.faults.clear()
        self.latency = 0.0
        self.latency_by_target.clear()

    @abc.abstractmethod
    def state(self) -> dict[str, Any]:
        """The vendor data, for `GET /__emulator__/state`."""

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

    async def _endpoint(self, request: Request) -> Response:
        path = _raw_path(request)
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return await self._control(request, path)
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
        if fault.status is None:
            return self._handle(recorded)
        return self._fault_response(fault)

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        body = fault.body if fault.body is not None else self._default_fault_body(fault.status)
        headers = {**self._fault_headers(), **fault.headers}
        if not any(name.lower() == "content-type" for name in headers):
            is_json = parse_json(body) is not None
            headers["content-type"] = "application/json" if is_json else "text/plain; charset=utf-8"
        if fault.trickle is not None:
            return StreamingResponse(
                trickle(body, fault.trickle), status_code=fault.status, headers=headers
            )
        return Response(body, status_code=fault.status, headers=headers)

    async def _control(self, request: Request, path: str) -> Response:
        route = (request.method, path.removeprefix(CONTROL_PREFIX))
        if route == ("GET", "/state"):
            return JSONResponse(to_jsonable(self._control_state()))
        if route == ("POST", "/reset"):
            self.reset()
            return JSONResponse({"reset": True})
        if route == ("POST", "/faults"):
            try:
                fault = self._fault_from_json(parse_json(await request.body()))
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            return JSONResponse(fault_json(fault), status_code=201)
        return JSONResponse({"error": f"no control route {route[0]} {path}"}, status_code=404)

    def _control_state(self) -> dict[str, Any]:
        return {
            **self.state(),
            "faults": [fault_json(fault) for fault in self.faults],
            "latency": self.latency,
            "latency_by_target": self.latency_by_target,
            "request_count": len(self.requests),
        }

    def _fault_from_json(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise ValueError("body must be a JSON object")
        unknown = set(spec) - {
            "status",
            "headers",
            "body",
            "times",
            "method",
            "path_contains",
            "delay",
            "trickle",
        }
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        status, times = spec.get("status"), spec.get("times", 1)
        delay, trickle = spec.get("delay", 0.0), spec.get("trickle")
        headers = spec.get("headers") or {}
        if not (status is None or isinstance(status, int)) or not isinstance(times, int):
            raise ValueError("status and times must be integers")
        if not isinstance(delay, int | float) or not (
            trickle is None or isinstance(trickle, int | float)
        ):
            raise ValueError("delay and trickle must be numbers of seconds")
        if not isinstance(headers, dict) or not all(
            isinstance(value, str) for value in headers.values()
        ):
            raise ValueError("headers must be an object of strings")
        for key in ("body", "method", "path_contains"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                raise ValueError(f"{key} must be a string")
        return self.faults.add(
            status=status,
            body=spec.get("body"),
            headers=headers,
            times=times,
            method=spec.get("method"),
            path_contains=spec.get("path_contains"),
            delay=float(delay),
            trickle=None if trickle is None else float(trickle),
        )


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
