"""`createInvitations`: many creates in one call, each item audited and answered on its own.

Valid items are grouped by adapter so each upstream can batch them (Clerk's bulk endpoints,
concurrent ConductorOne creates); items with an idempotency key go one by one through the
idempotent single-create path. Every batched item's record is `started` before anything is
sent, and each is completed with its own outcome and the request id of the upstream call that
carried it (`request_ids.Heard`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..callers.identity import Caller
from ..domain.errors import InvalidInvitationInput, InvitationError, InvitationForbidden
from ..domain.invitations import Invitation, NewInvitation
from ..providers.base import InvitationPort
from .accounting import Accounting
from .request_ids import Heard, hearing

_KEYED_CONCURRENCY = 8  # bulk items with an idempotency key are created at most 8 at a time
logger = logging.getLogger(__name__)

_Group = tuple[InvitationPort, list[tuple[int, NewInvitation]]]


@dataclass(frozen=True, slots=True)
class BulkCreate:
    """The bulk path, over the single-create steps of `InvitationService`."""

    accounting: Accounting
    prepare: Callable[[NewInvitation, Caller], tuple[InvitationPort, NewInvitation]]
    refuse: Callable[[Caller, NewInvitation, Exception], Awaitable[None]]
    create_one: Callable[[NewInvitation, Caller], Awaitable[Invitation]]

    async def run(
        self, drafts: Sequence[NewInvitation], caller: Caller
    ) -> list[Invitation | Exception]:
        """One result per draft, in input order; a failing item never hides the others."""
        results: list[Invitation | Exception | None] = [None] * len(drafts)
        groups: dict[int, _Group] = {}
        keyed: list[int] = []
        for index, draft in enumerate(drafts):
            if draft.idempotency_key is not None:
                keyed.append(index)  # created one by one, through the idempotent path
                continue
            try:
                port, new = self.prepare(draft, caller)
            except (InvalidInvitationInput, InvitationForbidden) as exc:
                results[index] = exc
                await self.refuse(caller, draft, exc)
                continue
            groups.setdefault(id(port), (port, []))[1].append((index, new))
        records = await self._begin(caller, groups)
        gate = asyncio.Semaphore(_KEYED_CONCURRENCY)

        async def one(index: int) -> None:
            async with gate:
                try:
                    results[index] = await self.create_one(drafts[index], caller)
                except InvitationError as exc:
                    results[index] = exc
                except Exception as exc:  # a bug: this item alone reports INTERNAL
                    logger.exception("createInvitations: item %d failed unexpectedly", index)
                    results[index] = exc

        async def batch(port: InvitationPort, items: list[tuple[int, NewInvitation]]) -> None:
            # One list for the whole batch: each id is noted on the items its call carried.
            heard = Heard()
            outcomes: Sequence[Invitation | Exception]
            try:
                with hearing(heard):
                    outcomes = await port.create_many([new for _, new in items])
                if len(outcomes) != len(items):
                    raise RuntimeError("the adapter answered another number of items")
            except Exception as exc:  # a bug: these items alone report INTERNAL
                logger.exception("createInvitations: a batch failed unexpectedly")
                outcomes = [exc] * len(items)
            # Cancelled mid-batch, nothing below runs: the records stay `started` (unknown).
            for (index, new), outcome in zip(items, outcomes, strict=True):
                results[index] = outcome
                await self.accounting.finish(records[index], outcome, heard.about(new))

        await asyncio.gather(
            *(batch(port, items) for port, items in groups.values()), *(one(i) for i in keyed)
        )
        # Every item got exactly one outcome above; a hole would be a bug, reported as one.
        return [r if r is not None else RuntimeError("no outcome") for r in results]

    async def _begin(self, caller: Caller, groups: dict[int, _Group]) -> dict[int, int | None]:
        """Each batched item's `started` record, by item index, before anything is sent.

        If the audit log fails now, nothing has been sent: the records begun are completed
        with the error, and the whole call is refused."""
        records: dict[int, int | None] = {}
        try:
            for _, items in groups.values():
                for index, new in items:
                    records[index] = await self.accounting.begin(
                        caller, "create", new.target, email=new.email, roles=new.roles
                    )
        except InvitationError as exc:
            for record in records.values():
                await self.accounting.finish(record, exc, None)
            raise
        return records
