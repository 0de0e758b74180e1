"""Idempotency store backends for tests: one shared record space, opened as several replicas."""

from __future__ import annotations

from invitation_gateway.idempotency import IdempotencyStore
from tests.support.clock import FakeClock
from tests.support.replicas import Replicas

Backend = Replicas[IdempotencyStore]

__all__ = ["Backend", "FakeClock"]
