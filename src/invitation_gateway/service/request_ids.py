"""Which upstream request ids belong to which attempt: what the audit log records for each.

The HTTP client tells every upstream answer's request id to the listener in
`UPSTREAM_REQUEST_IDS` (`providers/http.py`); adapters mark each call that creates or revokes
with the attempts it carries (`domain.audit.carrying`). `Heard` listens there, noting each
id on the attempts of its call, so that every item of a bulk create gets the id of its own call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..domain.audit import carried
from ..providers.base import UPSTREAM_REQUEST_IDS


class Heard:
    """For each attempt, the request id of the last upstream call that carried it: a Clerk bulk
    item's chunk call (or its own call, when its chunk was refused and sent again one by one),
    never whichever call answered last. A read made on the side (a duplicate's lookup, a
    revoke's read-back) carries no attempt.
    """

    def __init__(self) -> None:
        self._by_attempt: dict[int, str] = {}

    def append(self, request_id: str, /) -> None:
        """One upstream answer's request id: noted on the attempts its call carried."""
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
