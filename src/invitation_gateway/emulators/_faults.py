"""Injected faults for the emulators: a status and body instead of the real answer, a delay,
a body that trickles. Tests and the sandbox's control route add them; the first matching fault
answers a request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class Fault:
    """Answer the next `times` matching requests with this status, body and headers.

    `delay` waits before answering; with `status` None the real handler then answers (a slow
    upstream that still does the work). `trickle` streams the body `TRICKLE_CHUNK` bytes every
    `trickle` seconds (a body that arrives too slowly for any sane budget).
    """

    status: int | None
    body: bytes | None = None  # None: the vendor's own error body for `status`
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    method: str | None = None
    path_contains: str | None = None
    delay: float = 0.0
    trickle: float | None = None

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
    ) -> Fault:
        if status is None and delay <= 0:
            raise ValueError("a fault without a status must have a delay")
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
        )
        self._faults.append(fault)
        return fault

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


TRICKLE_CHUNK = 16


async def trickle(body: bytes, interval: float) -> AsyncIterator[bytes]:
    for start in range(0, len(body), TRICKLE_CHUNK):
        if start:
            await asyncio.sleep(interval)
        yield body[start : start + TRICKLE_CHUNK]


def fault_json(fault: Fault) -> dict[str, Any]:
    data = asdict(fault)
    data["body"] = None if fault.body is None else fault.body.decode(errors="replace")
    return data
