"""Which upstream request ids belong to which attempt: what the audit log records for each.

The HTTP client appends every upstream answer's request id to the list in
`UPSTREAM_REQUEST_IDS` (`providers/http.py`); adapters mark each call that creates or revokes
with the attempts it carries (`domain.audit.carrying`). `Heard` is that list, noting each id
on the attempts of its call, so that every item of a bulk create gets the id of its own call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..domain.audit import carried
from ..providers.base import UPSTREAM_REQUEST_IDS


class Heard(list[str]):
    """The upstream request ids heard, in order, and for each attempt the last one of the
    calls that carried it: a Clerk bulk item's chunk call (or its own call, when its chunk was
    refused and sent again one by one), never whichever call answered last. A read made on
    the side (a duplicate's lookup, a revoke's read-back) carries no attempt.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_attempt: dict[int, str] = {}

    def append(self, request_id: str, /) -> None:
        super().append(request_id)
        for attempt in carried():
            self._by_attempt[id(attempt)] = request_id

    def about(self, attempt: object) -> str | None:
        """The request id of the last answered call that carried `attempt`, if any."""
        return self._by_attempt.get(id(attempt))


@contextmanager
def hearing(request_ids: Heard) -> Iterator[None]:
    """Collect the upstream request ids of what runs inside (its child tasks included)."""
    token = UPSTREAM_REQUEST_IDS.set(request_ids)
    try:
        yield
    finally:
        UPSTREAM_REQUEST_IDS.reset(token)
