"""What Clerk's two invitation adapters share: reading answers, errors, pages and bulk creates.

Lists are offset-paginated `{data, total_count}` (clerk-notes.md §2.3, §3.3). Because an offset
moves when invitations are added or leave a status filter between two pages, each page is
fetched with a small overlap before the requested offset; the merging service drops what it has
already returned, so nothing is skipped when an earlier invitation leaves the filter.

Bulk creates take at most 10 items per call and are all-or-nothing upstream (§2.2, §3.2): when a
chunk is refused for a reason about one of its items, its items are created one by one so each
gets its own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel

from ...domain.errors import (
    InvalidInvitationInput,
    InvitationConflict,
    InvitationError,
    ProviderError,
    ProviderRejected,
)
from ...domain.invitations import Invitation, InvitationStatus, InvitationTarget, NewInvitation
from ...domain.listing import InvitationPage, ListQuery
from ..answers import UpstreamResponse
from ..base import InvitationPort, newest_pending, settle
from ..http import UpstreamClient
from ..paths import QueryParams, UpstreamPath
from ..reliability import RetryPolicy
from ..reuse import RecentInvitations
from ._wire import ClerkInvitationWire, first_error, to_invitation, trace_id, translate_error

ALL_STATUSES = ("pending", "accepted", "revoked", "expired")
BULK_SIZE = 10  # `maxItems: 10` on both bulk endpoints
_OVERLAP = 3
_MAX_LIMIT = 500  # LimitParameter maximum
_BULK_CONCURRENCY = 4


class _Page(BaseModel):
    data: list[ClerkInvitationWire]
    total_count: int | None = None


def clerk_common_body(new: NewInvitation) -> dict[str, Any]:
    """The optional fields both invitation kinds accept, only when the caller gave them."""
    body: dict[str, Any] = {"email_address": new.email}
    if new.public_metadata is not None:
        body["public_metadata"] = dict(new.public_metadata)
    if new.redirect_url is not None:
        body["redirect_url"] = new.redirect_url
    if new.expires_in_days is not None:
        body["expires_in_days"] = new.expires_in_days
    if new.notify is not None:
        body["notify"] = new.notify
    return body


def status_params(query: ListQuery) -> tuple[list[str], bool]:
    """Clerk `status` values for the query, and whether Clerk's filtering is then exact.

    With no `status`, Clerk lists only non-revoked application invitations (§2.3), so "every
    status" is asked for explicitly. UNKNOWN cannot be asked for: it is filtered here.
    """
    wanted = [s.value.lower() for s in query.statuses if s is not InvitationStatus.UNKNOWN]
    if not query.statuses or InvitationStatus.UNKNOWN in query.statuses:
        return list(ALL_STATUSES), not query.statuses
    return wanted, True


class ClerkAdapter:
    """Base of the application and organization adapters: one Clerk connection's client."""

    def __init__(self, client: UpstreamClient, recent: RecentInvitations | None = None) -> None:
        self._client = client
        self._recent = recent or RecentInvitations()

    def _read(
        self, answer: UpstreamResponse, target: InvitationTarget, operation: str
    ) -> Invitation:
        invitation = to_invitation(
            self._client.read(ClerkInvitationWire, answer, operation), target
        )
        self._recent.remember([invitation])
        return invitation

    def _error(self, answer: UpstreamResponse, operation: str) -> InvitationError:
        code, meta = first_error(answer)
        error = translate_error(code, meta, answer.status)
        if isinstance(error, ProviderRejected):
            # An error the gateway cannot explain to the caller: worth an operator's look. The
            # call's own line already has the status and body; this one says why it is odd.
            why = (
                f"unmapped clerk error {code} (trace {trace_id(answer) or '-'})"
                if code
                else "error without a ClerkErrors body"
            )
            self._client.log_unexpected(operation, answer, why)
        return error

    async def _list_page(
        self,
        url_path: UpstreamPath,
        query: ListQuery,
        params: dict[str, str | int | list[str]],
        exact: bool,
    ) -> InvitationPage:
        offset = _offset(query.position)
        start = max(0, offset - _OVERLAP)
        limit = min(_MAX_LIMIT, query.limit + (offset - start))
        all_params: QueryParams = {
            **params,
            "order_by": "-created_at",
            "limit": limit,
            "offset": start,
        }
        answer = await self._client.send(
            "GET", url_path, operation="list", retry=RetryPolicy.SAFE, params=all_params
        )
        if answer.status != 200:
            raise self._error(answer, "list")
        page = self._client.read(_Page, answer, "list")
        end = start + len(page.data)
        more = len(page.data) == limit and (page.total_count is None or end < page.total_count)
        read = [to_invitation(item, query.target) for item in page.data]
        self._recent.remember(read)
        items = tuple(invitation for invitation in read if query.admits(invitation))
        return InvitationPage(
            items, str(end) if more else None, page.total_count if exact else None
        )

    async def _create_chunked(
        self,
        news: Sequence[NewInvitation],
        bulk: Callable[[Sequence[NewInvitation]], Awaitable[list[Invitation | InvitationError]]],
        single: Callable[[NewInvitation], Awaitable[Invitation]],
    ) -> list[Invitation | InvitationError]:
        """Create in chunks of BULK_SIZE; a chunk refused for one item falls back to one by one."""
        gate = asyncio.Semaphore(_BULK_CONCURRENCY)

        async def chunk(items: Sequence[NewInvitation]) -> list[Invitation | InvitationError]:
            async with gate:
                try:
                    return list(await bulk(items))
                except ProviderError as exc:
                    if not _about_an_item(exc):
                        return [exc] * len(items)
                except InvitationError:
                    pass
                return list(await asyncio.gather(*(settle(single(item)) for item in items)))

        chunks = [news[i : i + BULK_SIZE] for i in range(0, len(news), BULK_SIZE)]
        results = await asyncio.gather(*(chunk(c) for c in chunks))
        return [result for part in results for result in part]

    def _match(
        self, news: Sequence[NewInvitation], created: Sequence[Invitation], answer: UpstreamResponse
    ) -> list[Invitation]:
        """Bulk answers list the invitations in request order; check it by email before trusting it."""
        if len(created) != len(news) or any(
            c.email.casefold() != n.email.casefold() for c, n in zip(created, news, strict=True)
        ):
            self._client.log_unexpected(
                "create_many", answer, "bulk answer does not match the request"
            )
            raise self._client.unreadable()
        return list(created)


def _about_an_item(exc: ProviderError) -> bool:
    # ProviderRejected is a 4xx Clerk explained: maybe about one item, so retry them one by one.
    # Unavailable, timeouts and rate limits are about the upstream: every item shares them.
    return isinstance(exc, ProviderRejected)


def _offset(position: str | None) -> int:
    if position is None:
        return 0
    if not position.isdigit() or len(position) > 9:
        raise InvalidInvitationInput.at(("after",), "is not a valid cursor")
    return int(position)


async def with_existing(
    port: InvitationPort, error: InvitationError, new: NewInvitation
) -> InvitationError:
    """A duplicate refused without the existing invitation gets it attached (one read)."""
    if not isinstance(error, InvitationConflict) or error.existing is not None:
        return error
    try:
        existing = await newest_pending(port, new, pages=1)
    except InvitationError:  # best effort: the conflict is the answer either way
        return error
    return InvitationConflict(error.message, field=error.field, existing=existing)
