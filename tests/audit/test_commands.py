"""`invitation-gateway migrate` and `invitation-gateway audit`, as a person or a script runs them."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from invitation_gateway.audit import UNKNOWN_TARGET, AuditEntry, AuditLog, AuditTarget, to_json
from invitation_gateway.audit.commands import audit_command
from invitation_gateway.cli import main
from invitation_gateway.emulators import ManualClock
from tests.support.audit import AuditBackend

TARGET = AuditTarget("CONDUCTORONE_DIRECTORY", "2fQzDirectory", "default")
# A global id as the gateway issues them: base64url of ["Invitation", connection, kind, ...].
GLOBAL_ID = "WyJJbnZpdGF0aW9uIiwiZGVmYXVsdCIsIkNMRVJLX09SR0FOSVpBVElPTiIsIm9yZ18xIiwib3JnaW52XzEiXQ"


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess, with only the GATEWAY_* variables given here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "invitation_gateway", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _seed(log: AuditLog, clock: ManualClock) -> None:
    """Three records: a completed create, a revoke still started, a create by another caller."""
    first = await log.start(
        AuditEntry("user:alice", "create", TARGET, "Bob@Example.com", ("admin",))
    )
    await log.complete(first, outcome="ok", invitation_id=GLOBAL_ID, upstream_request_id="req-1")
    clock.advance(timedelta(minutes=1))
    await log.start(AuditEntry("user:alice", "revoke", TARGET, "carol@example.com"))
    clock.advance(timedelta(minutes=1))
    third = await log.start(AuditEntry("api_key:ci", "create", TARGET, "bob@example.com"))
    await log.complete(third, outcome="FORBIDDEN", invitation_id=None, upstream_request_id=None)


async def _audit(
    backend: AuditBackend, *, as_json: bool = False, **filters: str | None
) -> tuple[int, str, str]:
    """`invitation-gateway audit` in process, on `backend`: its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    arguments = {"since": None, "caller": None, "email": None} | filters
    status = await asyncio.to_thread(
        audit_command, backend.env, as_json=as_json, out=out, err=err, **arguments
    )
    return status, out.getvalue(), err.getvalue()


async def test_migrate_creates_the_schema_then_reports_it_current(
    audit_backend: AuditBackend, tmp_path: Path
) -> None:
    """`migrate` says where and what it did: created first, up to date the second time."""
    first = await asyncio.to_thread(_cli, tmp_path, "migrate", **audit_backend.env)
    assert first.returncode == 0, first.stderr
    assert "created the audit schema (revision 0002)" in first.stdout
    assert ("SQLite at" if audit_backend.kind == "sqlite" else "PostgreSQL at") in first.stdout
    second = await asyncio.to_thread(_cli, tmp_path, "migrate", **audit_backend.env)
    assert second.returncode == 0, second.stderr
    assert "the audit schema is up to date (revision 0002)" in second.stdout


async def test_audit_json_prints_one_object_per_record_as_the_store_holds_them(
    log: AuditLog, clock: ManualClock, audit_backend: AuditBackend, tmp_path: Path
) -> None:
    """`audit --json` prints each record on its own line with DESIGN.md's keys, oldest first."""
    await _seed(log, clock)
    result = await asyncio.to_thread(_cli, tmp_path, "audit", "--json", **audit_backend.env)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == [to_json(record) for record in await log.query()]
    assert list(printed[0]) == [
        "id", "at", "caller", "action", "target", "email", "roles", "outcome", "invitationId",
        "upstreamRequestId",
    ]  # fmt: skip
    assert printed[0]["at"] == "2026-11-15T12:00:00.000000Z"
    assert printed[1]["outcome"] == "started"


async def test_audit_filters_by_since_caller_and_email(
    log: AuditLog, clock: ManualClock, audit_backend: AuditBackend
) -> None:
    """`--since` includes its bound (naive is UTC), `--caller` is exact, `--email` any case."""
    await _seed(log, clock)

    async def ids(**filters: str | None) -> list[int]:
        status, out, err = await _audit(audit_backend, as_json=True, **filters)
        assert status == 0, err
        return [json.loads(line)["id"] for line in out.splitlines()]

    every = await ids()
    assert len(every) == 3
    assert await ids(since="2026-11-15T12:01:00") == every[1:]
    assert await ids(since="2026-11-15T13:01:00+01:00") == every[1:]
    assert await ids(since="2026-11-15T12:01:00.000001Z") == every[2:]
    assert await ids(since="2026-11-16") == []
    assert await ids(caller="user:alice") == every[:2]
    assert await ids(email="BOB@example.COM") == [every[0], every[2]]


async def test_audit_prints_an_aligned_table_by_default(
    log: AuditLog, clock: ManualClock, audit_backend: AuditBackend
) -> None:
    """The table has a header, one line per record, aligned columns and a shortened global id."""
    await _seed(log, clock)
    status, out, err = await _audit(audit_backend)
    assert status == 0, err
    header, first, second, third = out.splitlines()
    assert header.split() == [
        "AT", "CALLER", "ACTION", "TARGET", "EMAIL", "ROLES", "OUTCOME", "INVITATION",
    ]  # fmt: skip
    assert first.split() == [
        "2026-11-15T12:00:00Z", "user:alice", "create", "CONDUCTORONE_DIRECTORY", "2fQzDirectory",
        "(default)", "Bob@Example.com", "admin", "ok", "…" + GLOBAL_ID[-10:],
    ]  # fmt: skip
    assert header.index("OUTCOME") == first.index("ok") == second.index("started")
    assert third.split()[-2:] == ["FORBIDDEN", "-"]


async def test_the_table_shows_an_unknown_target_as_a_dash(
    log: AuditLog, audit_backend: AuditBackend
) -> None:
    """A revoke whose id was malformed has no target: `-`, and the id as the caller gave it."""
    entry = AuditEntry("dev", "revoke", UNKNOWN_TARGET, None, invitation_id="bad-id")
    await log.refused(entry, "INVALID_INPUT")
    status, out, err = await _audit(audit_backend)
    assert status == 0, err
    _, line = out.splitlines()
    assert line.split() == [
        "2026-11-15T12:00:00Z", "dev", "revoke", "-", "-", "-", "INVALID_INPUT", "bad-id",
    ]  # fmt: skip


def test_a_bad_since_is_exit_status_2_with_an_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--since yesterday` is refused before any store is opened."""
    monkeypatch.setenv("GATEWAY_AUDIT__SQLITE_PATH", str(tmp_path / "never" / "a.db"))
    assert main(["audit", "--since", "yesterday"]) == 2
    error = capsys.readouterr().err
    assert "--since: 'yesterday' is not an ISO 8601 date or time" in error
    assert "2025-01-31T09:00:00Z" in error
    assert not (tmp_path / "never").exists()


def test_an_unreachable_postgresql_is_exit_status_1_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message names PostgreSQL and where, never the password in GATEWAY_DATABASE_URL."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql://auditor:hunter2@127.0.0.1:1/audit")
    assert main(["audit"]) == 1
    error = capsys.readouterr().err
    assert "audit log unavailable: PostgreSQL at 127.0.0.1:1/audit" in error
    assert "hunter2" not in error


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://auditor:hunter2@db/audit", "must start postgresql://"),
        ("postgresql://auditor:hunter2@db/audit?sslcert=x", "unsupported parameter 'sslcert'"),
    ],
)
def test_a_bad_database_url_is_a_configuration_error_without_the_password(
    url: str, problem: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GATEWAY_DATABASE_URL must be PostgreSQL with parameters the gateway knows."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    assert main(["migrate"]) == 2
    error = capsys.readouterr().err
    assert "configuration error: GATEWAY_DATABASE_URL" in error
    assert problem in error
    assert "hunter2" not in error


async def test_an_empty_log_says_so_on_stderr(audit_backend: AuditBackend, log: AuditLog) -> None:
    """With no records, the table form prints nothing on stdout and says why on stderr."""
    status, out, err = await _audit(audit_backend)
    assert (status, out) == (0, "")
    assert "no audit records match" in err
