"""The audit log's one error: the store could not be reached or refused a statement.

```
AuditUnavailable     .backend "PostgreSQL" or "SQLite"; the message names where, never a password
```

It is a plain `Exception`, not a `ValueError` or an `InvitationError`: the caller did nothing wrong,
and the service decides whether a mutation may go ahead without its audit record.
"""

from __future__ import annotations


class AuditUnavailable(Exception):
    """The audit store failed: unreachable, timed out, or a statement was refused."""

    def __init__(self, backend: str, *, location: str | None = None, reason: str = "") -> None:
        self.backend = backend
        self.location = location or backend
        self.reason = reason
        message = f"audit log unavailable: {self.location}"
        super().__init__(f"{message}: {reason}" if reason else message)

    @property
    def unavailable(self) -> str:
        """`<location> is unavailable (<reason>)`: worded as the limiter's Redis line is."""
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.location} is unavailable{why}"
