"""The Relay connection of invitations returned by `invitations(...)`."""

from __future__ import annotations

import strawberry

from ..service import MergedPage
from .errors import error_code
from .types import Invitation, InvitationTarget


@strawberry.type(description="Relay page information (forward pagination).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class InvitationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this invitation.")
    node: Invitation


@strawberry.type(description="A target whose invitations could not be read for this page.")
class InvitationTargetError:
    target: InvitationTarget
    code: str = strawberry.field(
        description="UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, RATE_LIMITED, NOT_FOUND, FORBIDDEN, UPSTREAM_REJECTED or INVALID_INPUT."
    )
    message: str


@strawberry.type(description="Invitations across several targets, newest first.")
class InvitationConnection:
    edges: list[InvitationEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(
        description="Matching invitations across all targets, when every upstream can count them (Clerk can, ConductorOne cannot)."
    )
    errors: list[InvitationTargetError] = strawberry.field(
        description="Targets that failed for this page; the other targets' invitations are still returned."
    )

    @classmethod
    def from_page(cls, page: MergedPage) -> InvitationConnection:
        edges = [
            InvitationEdge(cursor=e.cursor, node=Invitation.from_domain(e.invitation))
            for e in page.edges
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=page.end_cursor,
            ),
            total_count=page.total_count,
            errors=[
                InvitationTargetError(
                    target=InvitationTarget.from_domain(f.target),
                    code=error_code(f.error),
                    message=f.error.message,
                )
                for f in page.failures
            ],
        )
