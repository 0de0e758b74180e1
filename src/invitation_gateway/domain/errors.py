"""The one error tree of the gateway.

```
InvitationError
  + InvalidInvitationInput     the caller can fix the input (carries every problem found)
  + InvitationNotFound
  + InvitationConflict         already exists (carries the existing invitation when known)
  + InvitationNotRevocable     accepted / revoked / expired (carries the invitation when known)
  + InvitationForbidden        the upstream refuses this caller/target (permissions, quota)
  + OperationInProgress        an earlier request with the same idempotency key is still running
  + CallerRateLimited          this caller spent its budget (ours, not the upstream's); retry_after
  + DependencyUnavailable      the gateway's own store (audit log, rate limits) is unreachable
  + ProviderError              the upstream failed; carries the provider
    - ProviderRejected         an upstream 4xx we can explain to the caller
    - ProviderUnavailable      transport errors, 5xx, bad credentials, answers we cannot read
      - ProviderTimeout        the upstream did not answer within the budget
    - ProviderRateLimited      carries retry_after (seconds), when the upstream said
```

Adapters raise these; the GraphQL layer decides how each reaches the caller (`userErrors` or a
top-level error) and with which code, in one table (`schema/errors.py`). A `field` path names the
domain's own attributes (`("public_metadata",)`, `("target", "id")`, `("roles", "0")`), never a
GraphQL spelling. Messages are written for the end user: they never contain an upstream body, a
secret or a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .invitations import Invitation, Provider

FieldPath = tuple[str, ...]


class InvitationError(Exception):
    """Root of every error the gateway reports on purpose."""

    def __init__(self, message: str, *, field: FieldPath | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, at a field path relative to the operation's input."""

    field: FieldPath
    message: str


class InvalidInvitationInput(InvitationError):
    """The caller's input is wrong; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InvalidInvitationInput needs at least one problem")
        super().__init__(problems[0].message, field=problems[0].field)
        self.problems = tuple(problems)

    @classmethod
    def at(cls, field: FieldPath, message: str) -> InvalidInvitationInput:
        return cls([Problem(field, message)])


class InvitationNotFound(InvitationError):
    """No such invitation, or no such directory/organization, upstream."""


class InvitationConflict(InvitationError):
    """An invitation (or a member) already exists for that email in that target."""

    def __init__(
        self, message: str, *, field: FieldPath | None = None, existing: Invitation | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.existing = existing


class InvitationNotRevocable(InvitationError):
    """The invitation exists but is no longer pending."""

    def __init__(self, message: str, *, invitation: Invitation | None = None) -> None:
        super().__init__(message)
        self.invitation = invitation


class InvitationForbidden(InvitationError):
    """The upstream refuses the operation for this target (permissions, quota, feature off)."""


class OperationInProgress(InvitationError):
    """A request with the same idempotency key is still running: retry later with the same key."""


class CallerRateLimited(InvitationError):
    """The caller is over one of its budgets (GATEWAY_RATE_LIMIT__*): retry after `retry_after` s."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyUnavailable(InvitationError):
    """A store the gateway needs to act safely is unreachable (`dependency`: "PostgreSQL",
    "SQLite", "Redis"): mutations stop rather than run unaudited or unlimited."""

    def __init__(self, message: str, *, dependency: str) -> None:
        super().__init__(message)
        self.dependency = dependency


class ProviderError(InvitationError):
    """The upstream could not do what was asked, for reasons the caller cannot fix by editing input."""

    def __init__(self, message: str, *, provider: Provider, field: FieldPath | None = None) -> None:
        super().__init__(message, field=field)
        self.provider = provider


class ProviderRejected(ProviderError):
    """An upstream 4xx that we understand and can explain, e.g. an unsupported instance setting."""


class ProviderUnavailable(ProviderError):
    """Transport errors, 5xx, rejected gateway credentials, answers we cannot read.

    `may_have_acted` is True when the request reached the upstream and its answer was lost or
    was a failure sent after the fact (a dropped connection, a read timeout, a 5xx): the
    upstream may have done what was asked, so a create must not simply be sent again.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: Provider,
        field: FieldPath | None = None,
        may_have_acted: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, field=field)
        self.may_have_acted = may_have_acted


class ProviderTimeout(ProviderUnavailable):
    """The upstream did not answer in time."""


class ProviderRateLimited(ProviderError):
    """The upstream asked us to slow down; `retry_after` is in seconds when it said."""

    def __init__(self, message: str, *, provider: Provider, retry_after: float | None) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after
