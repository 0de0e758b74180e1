"""Idempotency store, runner and codec tests (a package, so its conftest does not shadow `tests/conftest.py`)."""
