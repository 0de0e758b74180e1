"""Logging, configured once per process: structlog renders what the standard library logs.

Modules log as usual (`logging.getLogger(__name__)`, `%`-style arguments, structured fields
in `extra=`). `configure_logging` installs one root handler whose structlog formatter adds the
time, level, logger name, the request's context (`request_id`, bound by the web layer) and the
`extra` fields, masks every email (`a***@example.com`), and renders one JSON object per line
(`serve`) or a readable line (the sandbox). A line below the level costs one level check.

Noise is cut at the source: httpx's INFO line per request (full URL, ids in the path) and
uvicorn's access log are off, because the gateway writes its own request and upstream-call
lines, which carry path templates instead of ids.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import Processor

from ..redaction import mask_emails

LogFormat = Literal["json", "console"]
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "alembic": logging.WARNING,  # its plugin set-up is not news
    "uvicorn.access": logging.CRITICAL + 1,  # the gateway logs each request itself
}


def _mask(_logger: object, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Every string value with its emails masked: application logs never hold one in full."""
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = mask_emails(value)
    return event


def configure_logging(
    fmt: LogFormat = "json", level: str = "INFO", *, stream: TextIO | None = None
) -> None:
    """Route every log record through one structlog formatter; calling again replaces it."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        tail: list[Processor] = [structlog.processors.format_exc_info, _mask, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        tail = [_mask, renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("invitation-gateway")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "invitation-gateway"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    # uvicorn's own loggers write through their own handlers unless told to propagate.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
