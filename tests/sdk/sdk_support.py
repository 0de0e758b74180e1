"""What the SDK tests share: the fixed clock they run on and the emulators on a real socket.

The vendors' SDKs open their own HTTP clients, so the emulators are served by uvicorn on a
loopback port (`tests/reliability/servers.py`), once per test module: each test resets the
emulator and winds the clock back instead of starting another server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from invitation_gateway.emulators._common import ManualClock

FIXED_START = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
"""Where every SDK test's clock stands (frozen): never today's date."""

START_MS = 1_794_744_000_000
"""FIXED_START in Unix milliseconds, as Clerk writes timestamps."""

DAY_MS = 86_400_000


def fixed_clock() -> ManualClock:
    return ManualClock(FIXED_START)


def rewind(clock: ManualClock) -> None:
    """Put a module's shared clock back at FIXED_START before a test."""
    clock.current = FIXED_START


def later(clock: ManualClock, **delta: float) -> None:
    clock.advance(timedelta(**delta))
