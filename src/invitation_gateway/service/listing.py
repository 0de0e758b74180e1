"""One merged, newest-first list of invitations across several targets.

Every target is read concurrently; their pages are merged k-way by creation time (newest
first), and the cursor records where each target's walk stands, so the next page resumes every
target exactly where it left off. A target is only read again once everything already read from
it has been returned or proven older than what the other targets still hold, so the merged order
is exact. A target that fails is reported and left where it was; the others go on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ..domain.errors import (
    InvalidInvitationInput,
    InvitationError,
    InvitationForbidden,
    Problem,
    ProviderRateLimited,
    ProviderUnavailable,
)
from ..domain.invitations import Invitation, InvitationStatus, InvitationTarget
from ..domain.listing import ListQuery, sort_key
from ..domain.validation import MAX_EMAIL, valid_upstream_id
from ..providers.base import InvitationPort
from . import cursor as cursors
from .connections import Connections
from .cursor import TargetState

MAX_FIRST = 100
MAX_TARGETS = 20
_MAX_ROUNDS = 4  # fetch rounds per page; a sparse filter may give a short page, never a wrong one


@dataclass(frozen=True, slots=True)
class TargetFailure:
    target: InvitationTarget
    error: InvitationError


@dataclass(frozen=True, slots=True)
class Edge:
    invitation: Invitation
    cursor: str


@dataclass(frozen=True, slots=True)
class MergedPage:
    edges: list[Edge]
    has_next_page: bool
    end_cursor: str | None
    total_count: int | None
    failures: list[TargetFailure]


@dataclass
class _Walk:
    """One target's progress while a page is assembled."""

    key: str
    target: InvitationTarget
    port: InvitationPort
    state: TargetState
    buffer: deque[tuple[int, Invitation]] = field(default_factory=deque)
    next_position: str | None = None
    total: int | None = None
    fetched: bool = False
    stable: bool = False
    failure: InvitationError | None = None

    @property
    def active(self) -> bool:
        return self.failure is None and not self.state.done

    async def fetch(self, query: ListQuery) -> None:
        try:
            page = await self.port.list(
                replace(query, target=self.target, position=self.state.position)
            )
        except InvalidInvitationInput:
            raise  # the cursor itself is unusable (an expired page token): the whole query fails
        except (ProviderUnavailable, ProviderRateLimited) as exc:
            self.failure = exc  # transient: the target stays where it was, for the next page
            return
        except InvitationError as exc:
            # Permanent (unknown organization, forbidden, rejected): reported, and the target is
            # done, so a client walking the pages is not told forever that there is more.
            self.failure = exc
            self.state = replace(self.state, done=True)
            return
        self.fetched = True
        self.stable = page.stable
        self.total = page.total_count
        self.next_position = page.next_position
        start = self.state.skip
        ids = [item.provider_invitation_id for item in page.items]
        if self.state.last_id in ids:
            # The page moved under us (invitations were added to its head, or a Clerk offset
            # shifted): resume right after the last invitation returned, wherever it is now.
            start = ids.index(self.state.last_id) + 1
        self.buffer = deque((i, item) for i, item in enumerate(page.items) if i >= start)
        if not self.buffer:
            self._page_consumed()

    def head(self) -> Invitation | None:
        """The next invitation not yet returned, dropping ones re-read after offsets moved."""
        while self.buffer:
            index, invitation = self.buffer[0]
            if self.stable or self.state.last is None or sort_key(invitation) < self.state.last:
                return invitation
            self._consume(index, None)
        return None

    def pop(self) -> Invitation:
        index, invitation = self.buffer[0]
        self._consume(index, invitation)
        return invitation

    def _consume(self, index: int, returned: Invitation | None) -> None:
        self.buffer.popleft()
        if returned is None:
            self.state = replace(self.state, skip=index + 1)
        else:
            self.state = replace(
                self.state,
                skip=index + 1,
                last=sort_key(returned),
                last_id=returned.provider_invitation_id,
            )
        if not self.buffer:
            self._page_consumed()

    def _page_consumed(self) -> None:
        if self.next_position is None:
            self.state = replace(self.state, done=True)
        else:
            self.state = replace(self.state, position=self.next_position, skip=0)


async def merged_page(
    connections: Connections,
    targets: Sequence[InvitationTarget],
    *,
    statuses: frozenset[InvitationStatus],
    email: str | None,
    first: int,
    after: str | None,
    readable: Callable[[InvitationTarget], bool] = lambda _target: True,
) -> MergedPage:
    """The page of `first` invitations after `after`, across `targets`, newest first.

    A target the caller may not read is listed among the failures as FORBIDDEN and never read.
    """
    walks = _walks(connections, targets, first, email)
    query_fingerprint = cursors.fingerprint(
        [sorted(w.key for w in walks), sorted(s.value for s in statuses), email]
    )
    if after is not None:
        states = cursors.decode(after, query_fingerprint, [w.key for w in walks])
        for walk in walks:
            walk.state = states[walk.key]

    for walk in walks:
        if not readable(walk.target):
            walk.failure = InvitationForbidden("you may not read this target's invitations")
            walk.state = replace(walk.state, done=True)

    def snapshot() -> str:
        return cursors.encode(query_fingerprint, {w.key: w.state for w in walks})

    edges: list[Edge] = []
    for _ in range(_MAX_ROUNDS if first else 0):
        hungry = [w for w in walks if w.active and not w.buffer]
        wanted = first - len(edges)
        await asyncio.gather(
            *(
                w.fetch(ListQuery(w.target, statuses, email, limit=wanted + w.state.skip))
                for w in hungry
            )
        )
        while len(edges) < first:
            candidates, blocked = _heads(walks)
            if blocked or not candidates:
                break  # a target must be read further before anything else can be placed
            walk, _ = max(candidates, key=lambda pair: sort_key(pair[1]))
            edges.append(Edge(walk.pop(), snapshot()))
        if len(edges) >= first or not any(w.active for w in walks):
            break

    has_next = any(not w.state.done for w in walks)
    totals = [w.total for w in walks]
    complete = all(w.fetched and w.failure is None for w in walks)
    return MergedPage(
        edges=edges,
        has_next_page=has_next,
        end_cursor=snapshot() if edges or has_next else None,
        total_count=sum(t for t in totals if t is not None)
        if complete and None not in totals
        else None,
        failures=[TargetFailure(w.target, w.failure) for w in walks if w.failure is not None],
    )


def _heads(walks: list[_Walk]) -> tuple[list[tuple[_Walk, Invitation]], bool]:
    """Each active target's next invitation; blocked when one needs reading further first."""
    candidates: list[tuple[_Walk, Invitation]] = []
    blocked = False
    for walk in walks:
        if not walk.active:
            continue
        head = walk.head()
        if head is not None:
            candidates.append((walk, head))
        elif walk.active:  # head() may have found the target exhausted
            blocked = True
    return candidates, blocked


def _walks(
    connections: Connections, targets: Sequence[InvitationTarget], first: int, email: str | None
) -> list[_Walk]:
    """The targets to read, resolved; every problem with the arguments is raised at once."""
    problems: list[Problem] = []
    if email is not None and not 0 < len(email) <= MAX_EMAIL:
        problems.append(Problem(("email",), f"must be 1 to {MAX_EMAIL} characters"))
    if not 0 <= first <= MAX_FIRST:
        problems.append(Problem(("first",), f"must be between 0 and {MAX_FIRST}"))
    if not 1 <= len(targets) <= MAX_TARGETS:
        problems.append(Problem(("targets",), f"must name 1 to {MAX_TARGETS} targets"))
    walks: dict[str, _Walk] = {}
    for index, requested in enumerate(targets[:MAX_TARGETS]):
        try:
            port, target = connections.resolve(requested.kind, requested.id, requested.connection)
        except InvalidInvitationInput as exc:
            problems.extend(
                Problem(("targets", str(index), *p.field[1:]), p.message) for p in exc.problems
            )
            continue
        if target.kind.needs_target_id and not (target.id and valid_upstream_id(target.id)):
            problems.append(
                Problem(("targets", str(index), "id"), "is required and must be a valid id")
            )
            continue
        if not target.kind.needs_target_id and target.id is not None:
            problems.append(Problem(("targets", str(index), "id"), "must be omitted for this kind"))
            continue
        key = f"{target.connection}/{target.kind.value}/{target.id or ''}"
        walks.setdefault(key, _Walk(key, target, port, TargetState()))
    if problems:
        raise InvalidInvitationInput(problems)
    return list(walks.values())
