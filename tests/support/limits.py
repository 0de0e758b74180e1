"""Rate limiters for tests: one shared set of buckets, opened as several replicas."""

from __future__ import annotations

from invitation_gateway.limits import RateLimiter
from tests.support.clock import FakeClock
from tests.support.replicas import Replicas

Limiters = Replicas[RateLimiter]

__all__ = ["FakeClock", "Limiters"]
