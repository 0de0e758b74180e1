"""Records for people and for programs: an aligned table, or one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC

from .record import AuditRecord, to_json

_HEADERS = ("AT", "CALLER", "ACTION", "TARGET", "EMAIL", "ROLES", "OUTCOME", "INVITATION")
_INVITATION_TAIL = 10


def json_lines(records: Iterable[AuditRecord]) -> str:
    """One compact JSON object per record and line (the keys DESIGN.md fixes)."""
    return "".join(json.dumps(to_json(record), ensure_ascii=False) + "\n" for record in records)


def table(records: Sequence[AuditRecord]) -> str:
    """An aligned table with a header line; empty cells show as `-`."""
    rows = [_HEADERS, *(_row(record) for record in records)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADERS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    return "".join(line + "\n" for line in lines)


def _row(record: AuditRecord) -> tuple[str, ...]:
    target = record.target
    if target.kind is None:  # a revoke whose id named no target the gateway could read
        where = "-"
    else:
        where = f"{target.kind} {target.id}" if target.id else target.kind
        where = f"{where} ({target.connection})"
    return tuple(
        _printable(cell)
        for cell in (
            record.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            record.caller,
            record.action,
            where,
            record.email or "-",
            ",".join(record.roles) or "-",
            record.outcome,
            _short(record.invitation_id),
        )
    )


def _short(invitation_id: str | None) -> str:
    # A global id is base64 of ["Invitation", connection, kind, target, upstream id]: every id
    # starts alike, so keep the end, which encodes the upstream's own id.
    if not invitation_id:
        return "-"
    if len(invitation_id) <= _INVITATION_TAIL + 1:
        return invitation_id
    return "…" + invitation_id[-_INVITATION_TAIL:]


def _printable(text: str) -> str:
    # Stored values come from callers (JWT subjects, emails): no control characters on a terminal.
    return "".join(char if char.isprintable() else "\N{REPLACEMENT CHARACTER}" for char in text)
