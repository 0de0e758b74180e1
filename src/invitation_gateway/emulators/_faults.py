"""Injected faults for the emulators. Tests and the control route add them; the first fault that
matches a request (by `method` and `path_contains`) handles it, `times` times:

    status=503                 answer 503 instead of the handler: nothing changes upstream
    delay=2.0                  wait first; without a status the real handler then answers
    trickle=0.05               stream the answer 16 bytes at a time, that many seconds apart
    status=503, after=True     the real handler runs first (the invitation IS created or
                               revoked), then its answer is replaced by the fault's
    drop=True                  the real handler runs first, then the connection breaks before
                               the answer is complete

A drop sends the real status line and headers without a length, half the body, and then fails
with `ConnectionDropped`. Behind a real server (uvicorn) that closes the socket mid-answer, so a
client sees its own `httpx.RemoteProtocolError`; through `httpx.ASGITransport`, which re-raises
what the app raises, the client gets `ConnectionDropped`, itself an `httpx.RemoteProtocolError`.
Either way it is a transport error after the request was sent, never a connect error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

TRICKLE_CHUNK = 16
_JSON_KEYS = {
    "status": (int, type(None)),
    "headers": (dict, type(None)),
    "body": (str, type(None)),
    "times": (int,),
    "method": (str, type(None)),
    "path_contains": (str, type(None)),
    "delay": (int, float),
    "trickle": (int, float, type(None)),
    "after": (bool,),
    "drop": (bool,),
}


@dataclass
class Fault:
    """What to do instead of (or after) the real answer to the next `times` matching requests."""

    status: int | None
    body: bytes | None = None  # None: the vendor's own error body for `status`
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    method: str | None = None
    path_contains: str | None = None
    delay: float = 0.0
    trickle: float | None = None
    after: bool = False  # run the real handler first, then answer `status`
    drop: bool = False  # run the real handler first, then break the connection

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or any(
            self.path_contains in candidate for candidate in (path, unquote(path))
        )


class FaultQueue:
    """Faults in the order they were added; the first one that matches a request answers it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        delay: float = 0.0,
        trickle: float | None = None,
        after: bool = False,
        drop: bool = False,
    ) -> Fault:
        """Add a fault; raises ValueError for a combination that means nothing (see the module)."""
        if drop and (status is not None or body is not None or headers or trickle is not None):
            raise ValueError("a dropped connection has no status, body, headers or trickle")
        if after and not drop and status is None:
            raise ValueError("an `after` fault needs the status to answer with")
        if status is None and delay <= 0 and not drop:
            raise ValueError("a fault without a status must have a delay or drop")
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status}")
        if delay < 0 or (trickle is not None and trickle <= 0):
            raise ValueError("delay and trickle must be positive")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        fault = Fault(
            status=status,
            body=body.encode() if isinstance(body, str) else body,
            headers=dict(headers or {}),
            times=times,
            method=method,
            path_contains=path_contains,
            delay=delay,
            trickle=trickle,
            after=after or drop,  # a drop always acts first
            drop=drop,
        )
        self._faults.append(fault)
        return fault

    def add_json(self, spec: Any) -> Fault:
        """Add a fault from the control route's JSON object (the keyword arguments of `add`)."""
        if not isinstance(spec, dict):
            raise ValueError("body must be a JSON object")
        unknown = set(spec) - set(_JSON_KEYS)
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        for key, value in spec.items():
            # bool is an int in Python: a JSON true is no status, times or delay
            if not isinstance(value, _JSON_KEYS[key]) or (
                isinstance(value, bool) and bool not in _JSON_KEYS[key]
            ):
                raise ValueError(f"{key} has the wrong type")
        headers = spec.get("headers") or {}
        if not all(isinstance(value, str) for value in headers.values()):
            raise ValueError("headers must be an object of strings")
        trickle = spec.get("trickle")
        return self.add(
            status=spec.get("status"),
            body=spec.get("body"),
            headers=headers,
            times=spec.get("times", 1),
            method=spec.get("method"),
            path_contains=spec.get("path_contains"),
            delay=float(spec.get("delay", 0.0)),
            trickle=None if trickle is None else float(trickle),
            after=spec.get("after", False),
            drop=spec.get("drop", False),
        )

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))


async def trickle(body: bytes, interval: float) -> AsyncIterator[bytes]:
    for start in range(0, len(body), TRICKLE_CHUNK):
        if start:
            await asyncio.sleep(interval)
        yield body[start : start + TRICKLE_CHUNK]


def fault_json(fault: Fault) -> dict[str, Any]:
    data = asdict(fault)
    data["body"] = None if fault.body is None else fault.body.decode(errors="replace")
    return data


class ConnectionDropped(httpx.RemoteProtocolError):
    """The emulator broke the connection on purpose, after acting (a `drop` fault)."""


class DroppedResponse(Response):
    """Sends the start of `answer` (status, headers, half the body), then drops the connection."""

    def __init__(self, answer: Response) -> None:
        super().__init__(answer.body, status_code=answer.status_code)
        # Without a content-length the server frames the body as chunked, so even an empty body
        # is visibly incomplete when the connection closes.
        self.raw_headers = [(k, v) for k, v in answer.raw_headers if k != b"content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        partial = self.body[: len(self.body) // 2]
        await send({"type": "http.response.body", "body": partial, "more_body": True})
        request = Request(scope)
        raise ConnectionDropped(
            "peer closed connection without sending complete message body",
            request=httpx.Request(request.method, str(request.url)),
        )
