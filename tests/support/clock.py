"""The fixed instant dated tests run at, and a manual clock standing there.

Dated tests never run at today's date. Tests through the gateway move the wall clock to
`FIXED_NOW` (the `fixed_clock` fixture in `tests/conftest.py`); tests that drive an emulator
alone, such as the SDK tests, give it a `ManualClock` from `manual_clock()` and move it by hand.
The SDK tests share one emulator server per module, so each test `rewind`s the clock first.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from invitation_gateway.emulators import ManualClock

FIXED_NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
"""The instant dated tests run at: never today's date."""

FIXED_NOW_MS = 1_794_744_000_000
"""FIXED_NOW in Unix milliseconds, as Clerk writes timestamps."""

DAY_MS = 86_400_000


def manual_clock() -> ManualClock:
    """A clock standing at FIXED_NOW that moves only when told to."""
    return ManualClock(FIXED_NOW)


def rewind(clock: ManualClock) -> None:
    """Put a module's shared clock back at FIXED_NOW before a test."""
    clock.current = FIXED_NOW


def later(clock: ManualClock, **delta: float) -> None:
    """Move `clock` forward by `timedelta(**delta)`."""
    clock.advance(timedelta(**delta))


class FakeClock:
    """Seconds (Unix or monotonic) that move only when told to; starts at `start` (wall time
    unless given). For code that takes a `Callable[[], float]` clock."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
