"""The audit log for tests: where its records are, as a deployment says it, and reading them back.

`AuditBackend` is one place for audit records, given as the `GATEWAY_*` variables a deployment
would set (the `audit_backend` fixture in `tests/audit/conftest.py` gives SQLite and the test
PostgreSQL); `audit_settings` is the same as `Settings` overrides for `create_app`, and
`stored_records` reads every record back, in the JSON shape `invitation-gateway audit --json`
prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from invitation_gateway.audit import AuditLog, to_json
from invitation_gateway.audit.config import audit_url_from_env
from invitation_gateway.settings import AuditSettings


@dataclass(frozen=True)
class AuditBackend:
    """One place for audit records, as the `GATEWAY_*` variables that select it."""

    kind: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        """The SQLAlchemy URL the gateway derives from `env`."""
        return audit_url_from_env(self.env)


def audit_settings(backend: AuditBackend) -> dict[str, Any]:
    """`Settings` overrides that put the gateway's audit log on `backend`."""
    if "GATEWAY_DATABASE_URL" in backend.env:
        return {
            "database_url": SecretStr(backend.env["GATEWAY_DATABASE_URL"]),
            "audit": AuditSettings(sqlite_path=None),
        }
    return {"audit": AuditSettings(sqlite_path=Path(backend.env["GATEWAY_AUDIT__SQLITE_PATH"]))}


async def stored_records(backend: AuditBackend) -> list[dict[str, Any]]:
    """Every record on `backend`, oldest first, as `to_json` shapes it."""
    log = AuditLog.open(backend.url)
    try:
        return [to_json(record) for record in await log.query()]
    finally:
        await log.aclose()


DEV_POLICY = """
[[allow]]                    # the development caller: org members, in any Clerk organization
callers = ["dev"]
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION" }, { kind = "CLERK_APPLICATION" }]
roles = ["org:member"]

[[allow]]                    # ... and reads, creates (any role), but no revokes, in ConductorOne
callers = ["dev"]
actions = ["read", "create"]
targets = [{ kind = "CONDUCTORONE_DIRECTORY" }]
roles = ["*"]
"""
"""The policy of the audited test gateway: `org:admin` in a Clerk organization and any revoke in
ConductorOne are FORBIDDEN (a policy denial is recorded like any other refusal)."""
