"""The control API every emulator serves under `/__emulator__/`: never recorded, never faulted.

    GET    /__emulator__/state                     the vendor data, faults, latency, settings
    POST   /__emulator__/reset                     back to the state right after construction
    POST   /__emulator__/faults                    add a fault (JSON: the keywords of `faults.add`)
    DELETE /__emulator__/faults                    drop every pending fault
    GET    /__emulator__/settings                  the behaviour switches and their values
    POST   /__emulator__/settings                  set some switches: {"name": value, ...}
    POST   /__emulator__/invitations/{id}/expire   make a pending invitation expired now;
                                                   answers it as the vendor would show it

Errors are `{"error": "..."}` with 400 (bad JSON or value), 404 (no such route or invitation) or
409 (the invitation is not pending).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators._faults import FaultQueue, fault_json

CONTROL_PREFIX = "/__emulator__"


class Controllable(Protocol):
    """What the control routes need from an emulator."""

    faults: FaultQueue

    def reset(self) -> None: ...

    def control_state(self) -> dict[str, Any]:
        """The state dump, already made of JSON types."""

    def settings(self) -> dict[str, Any]: ...

    def configure(self, **values: Any) -> None: ...

    def expire_invitation(self, invitation_id: str) -> Mapping[str, Any]: ...

    def public_view(self, invitation: Mapping[str, Any]) -> dict[str, Any]: ...


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


async def control(emulator: Controllable, request: Request, path: str) -> Response:
    method, route = request.method, path.removeprefix(CONTROL_PREFIX)
    segments = route.split("/")[1:]
    try:
        if (method, route) == ("GET", "/state"):
            return JSONResponse(emulator.control_state())
        if (method, route) == ("POST", "/reset"):
            emulator.reset()
            return JSONResponse({"reset": True})
        if (method, route) == ("POST", "/faults"):
            fault = emulator.faults.add_json(await _json_body(request))
            return JSONResponse(fault_json(fault), status_code=201)
        if (method, route) == ("DELETE", "/faults"):
            cleared = len(emulator.faults)
            emulator.faults.clear()
            return JSONResponse({"cleared": cleared})
        if (method, route) == ("GET", "/settings"):
            return JSONResponse(emulator.settings())
        if (method, route) == ("POST", "/settings"):
            values = await _json_body(request)
            if not isinstance(values, dict):
                raise ValueError("body must be a JSON object")
            emulator.configure(**values)
            return JSONResponse(emulator.settings())
        if method == "POST" and len(segments) == 3 and segments[::2] == ["invitations", "expire"]:
            invitation_id = unquote(segments[1])
            try:
                invitation = emulator.expire_invitation(invitation_id)
            except KeyError:
                return JSONResponse({"error": f"no invitation {invitation_id}"}, status_code=404)
            return JSONResponse({"invitation": emulator.public_view(invitation)})
    except ValueError as error:
        status = 409 if isinstance(error, NotPending) else 400
        return JSONResponse({"error": str(error)}, status_code=status)
    return JSONResponse({"error": f"no control route {method} {path}"}, status_code=404)


class NotPending(ValueError):
    """Raised by `expire_invitation` for an invitation that is no longer pending."""


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ValueError("body must be JSON") from None
