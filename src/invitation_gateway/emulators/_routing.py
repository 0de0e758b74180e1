"""A router over raw request paths, shared by the emulators.

Starlette's router matches the percent-decoded path, where an id sent as `a%2Frevoke` would turn
into two segments and reach another route. This one splits the raw path (escapes intact) first and
decodes each path parameter exactly once, as the vendors' routers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from invitation_gateway.emulators._common import Handler


@dataclass(frozen=True)
class RouteMatch:
    handler: Handler
    params: dict[str, str]


@dataclass(frozen=True)
class _Route:
    method: str
    segments: tuple[str, ...]
    handler: Handler

    def params_for(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for template, raw in zip(self.segments, segments, strict=True):
            if template.startswith("{"):
                if not raw:
                    return None
                params[template[1:-1]] = unquote(raw)  # decoded exactly once
            elif unquote(raw) != template:
                return None
        return params


class Router:
    """Matches `METHOD /a/{param}/b` templates against raw paths, literal routes first as added."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append(_Route(method, tuple(template.split("/")[1:]), handler))

    def resolve(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")[1:]
        for route in self._routes:
            if route.method == method and (params := route.params_for(segments)) is not None:
                return RouteMatch(route.handler, params)
        return None

    def knows_path(self, raw_path: str) -> bool:
        """True when some route has this path under another method (a 405-style miss)."""
        segments = raw_path.split("/")[1:]
        return any(route.params_for(segments) is not None for route in self._routes)
