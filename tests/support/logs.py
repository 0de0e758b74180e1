"""The gateway's log lines as `serve` writes them (JSON), captured for a test.

`caplog` sees records, not what reaches the operator: `extra` fields are not in its text. A
test that must see everything (the error-hygiene tests: no secret, no whole email) reads the
rendered lines instead, through the real `configure_logging`.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from invitation_gateway.telemetry.logs import configure_logging

_TOUCHED = ("", "httpx", "httpcore", "alembic", "uvicorn", "uvicorn.error", "uvicorn.access")


class LogLines:
    """The rendered lines so far: `text` as written, `records` parsed."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    @property
    def text(self) -> str:
        return self._buffer.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == event]


@contextmanager
def captured_json_logs(level: str = "INFO") -> Iterator[LogLines]:
    """Configure logging as `serve` does, into a buffer; restore the loggers afterwards."""
    saved = {
        name: (logger.level, logger.propagate, list(logger.handlers))
        for name in _TOUCHED
        for logger in [logging.getLogger(name)]
    }
    buffer = io.StringIO()
    configure_logging("json", level, stream=buffer)
    try:
        yield LogLines(buffer)
    finally:
        for name, (level_was, propagate, handlers) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level_was)
            logger.propagate = propagate
            logger.handlers[:] = handlers
