"""The accountability half of the composition root: the audit log and the rate limiter.

Both are opened and checked in the lifespan: an unreachable PostgreSQL or Redis stops start-up,
naming which one (`StartupError`), rather than serving unaudited or unlimited. The audit schema
is created or upgraded (Alembic) at start-up, and records an earlier process left `started`
(killed or cancelled mid-call) are counted in a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .audit import AuditLog, AuditUnavailable, database_url
from .domain.errors import InvitationError
from .limits import LimiterUnavailable, RateLimiter, open_limiter
from .schema import global_id
from .schema.errors import error_code
from .service.accounting import Accounting
from .settings import Settings

logger = logging.getLogger(__name__)
DEFAULT_AUDIT_PATH = Path("var/audit.sqlite3")


class StartupError(RuntimeError):
    """A store the gateway needs cannot be reached at start-up; the message names it."""


@dataclass
class Accountability:
    accounting: Accounting
    audit: AuditLog | None
    limiter: RateLimiter

    async def aclose(self) -> None:
        if self.audit is not None:
            await self.audit.aclose()
        await self.limiter.aclose()


async def open_accountability(settings: Settings) -> Accountability:
    """The audit log (migrated) and the limiter, both checked; raises `StartupError`."""
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    limiter = open_limiter(redis_url)
    try:
        await limiter.take("startup-check", "startup-check", 0, 1)
    except LimiterUnavailable as exc:
        await limiter.aclose()
        raise StartupError(f"cannot start: {exc}") from None
    audit = await _open_audit(settings, limiter)
    accounting = Accounting(
        outcome_code=_outcome_code,
        global_id=global_id.encode,
        audit=audit,
        audit_backend="PostgreSQL" if settings.database_url else "SQLite",
        limiter=limiter,
        limiter_backend="Redis" if redis_url else "rate limiter",
        creates_per_minute=settings.rate_limit.creates_per_minute,
    )
    return Accountability(accounting, audit, limiter)


async def _open_audit(settings: Settings, limiter: RateLimiter) -> AuditLog | None:
    postgresql = settings.database_url.get_secret_value() if settings.database_url else None
    sqlite_path = settings.audit.sqlite_path
    if postgresql is None and sqlite_path is None:
        return None
    audit = AuditLog.open(database_url(postgresql, sqlite_path or DEFAULT_AUDIT_PATH))
    try:
        await audit.migrate()
        left = await audit.count_started()
    except AuditUnavailable as exc:
        await audit.aclose()
        await limiter.aclose()
        raise StartupError(f"cannot start: {exc.unavailable}") from None
    if left:
        logger.warning(
            "audit: %d record(s) were left `started` (a process killed, or a call cancelled,"
            " during an upstream call): their outcome is unknown; `invitation-gateway audit`"
            " lists them",
            left,
            extra={"left_started": left},
        )
    return audit


def _outcome_code(exc: BaseException) -> str:
    return error_code(exc) if isinstance(exc, InvitationError) else "INTERNAL"
