"""`invitation-gateway migrate` and `invitation-gateway audit`, called by `cli.py`.

Both find the store from the environment (`config.py`) and return an exit status: 0 done,
1 the store is unavailable, 2 a bad argument or configuration. They write to the streams
they are given, so tests can call them in-process too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from . import report
from .config import audit_url_from_env
from .errors import AuditUnavailable
from .store import AuditLog

_PROGRAM = "invitation-gateway"


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or time as an aware datetime; naive means UTC. `ValueError` if not ISO."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since: {text!r} is not an ISO 8601 date or time"
            " (for example 2025-01-31, 2025-01-31T09:00:00Z or 2025-01-31T10:00:00+01:00)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def migrate_command(environ: Mapping[str, str], *, out: TextIO, err: TextIO) -> int:
    """Create or upgrade the audit schema and say what was done."""
    log = _open(environ, err)
    if log is None:
        return 2

    async def run() -> None:
        async with log:
            change = await log.migrate()
        if change.before is None:
            done = f"created the audit schema (revision {change.after})"
        elif change.changed:
            done = f"upgraded the audit schema from revision {change.before} to {change.after}"
        else:
            done = f"the audit schema is up to date (revision {change.after})"
        out.write(f"{log.location}: {done}\n")

    return _run(run(), err)


def audit_command(
    environ: Mapping[str, str],
    *,
    since: str | None,
    caller: str | None,
    email: str | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print the records matching the filters, oldest first, as a table or JSON lines."""
    try:
        since_at = parse_since(since) if since is not None else None
    except ValueError as exc:
        err.write(f"{_PROGRAM}: {exc}\n")
        return 2
    log = _open(environ, err)
    if log is None:
        return 2

    async def run() -> None:
        async with log:
            records = await log.query(since=since_at, caller=caller, email=email)
        if as_json:
            out.write(report.json_lines(records))
        elif records:
            out.write(report.table(records))
        else:
            err.write(f"{_PROGRAM}: no audit records match ({log.location})\n")

    return _run(run(), err)


def _open(environ: Mapping[str, str], err: TextIO) -> AuditLog | None:
    try:
        return AuditLog.open(audit_url_from_env(environ))
    except ValueError as exc:  # the message names the problem, never the URL's password
        err.write(f"{_PROGRAM}: configuration error: GATEWAY_DATABASE_URL: {exc}\n")
    except OSError as exc:  # the SQLite file's directory cannot be created
        err.write(f"{_PROGRAM}: configuration error: GATEWAY_AUDIT__SQLITE_PATH: {exc}\n")
    return None


def _run(work: Coroutine[Any, Any, None], err: TextIO) -> int:
    try:
        asyncio.run(work)
    except AuditUnavailable as exc:
        err.write(f"{_PROGRAM}: {exc}\n")
        return 1
    return 0
