"""Idempotency store backends for tests: one shared record space, opened as several replicas."""

from __future__ import annotations

from invitation_gateway.idempotency import IdempotencyStore
from tests.support.replicas import FakeClock, Replicas

Backend = Replicas[IdempotencyStore]

__all__ = ["Backend", "FakeClock"]
