"""Upstream request paths that remember their template, so ids stay out of logs and metrics.

Adapters build every path with `path(template, **values)`: values are percent-escaped, so an id
can never add or remove a segment, and the result remembers its template, which is all that log
lines, metrics and spans name (`observation.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

QueryParams = Mapping[str, str | int | Sequence[str]]


class UpstreamPath(str):
    """A request path that remembers its template (`/invitations/{invitation_id}/revoke`).

    Log lines, metrics and spans name the template, never the path: ids stay out of them.
    """

    template: str


def path(template: str, **values: str) -> UpstreamPath:
    """`template` with each `{name}` replaced by its value, percent-escaped so that an id can
    never add or remove a segment: `path("/invitations/{id}/revoke", id=invitation_id)`."""
    filled = UpstreamPath(template.format_map({k: quote(v, safe="") for k, v in values.items()}))
    filled.template = template
    return filled
