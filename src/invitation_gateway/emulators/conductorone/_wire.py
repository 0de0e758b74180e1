"""ConductorOne wire conventions for the emulator: errors, proto3 JSON, redirects (pagination is
in `_conductorone_pages.py`).

C1 answers errors the way grpc-gateway does (conductorone-notes.md §6.1, §6.2): an HTTP status
derived from the numeric gRPC code, and a body `{"code": <int>, "message": "<text> (request-id: …)"}`.
Request bodies are proto3 JSON: lowerCamelCase keys (the original snake_case names parse too, as
protojson accepts both), `null` meaning "unset", int32 given as a number or a numeric string.
Responses leave out empty fields, so the last page has no `nextPageToken` and an empty one no
`list` (§4, §6.4; the DOC-PAGE sample shows `"nextPageToken": ""`, which clients must treat alike).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from starlette.responses import JSONResponse, Response

from invitation_gateway.emulators._common import parse_json

CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
INTERNAL = 13
UNIMPLEMENTED = 12
UNAVAILABLE = 14
UNAUTHENTICATED = 16

# grpc-gateway `HTTPStatusFromCode` (conductorone-notes.md §6.2); FAILED_PRECONDITION is 400 there.
_HTTP_STATUS = {
    CANCELLED: 408,
    UNKNOWN: 500,
    INVALID_ARGUMENT: 400,
    DEADLINE_EXCEEDED: 504,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400,
    ABORTED: 409,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}
# The inverse, for faults added without a body: which code a C1 server would send with the status.
_CODE_FOR_STATUS = {
    400: (INVALID_ARGUMENT, "invalid argument"),
    401: (UNAUTHENTICATED, "unauthenticated"),
    403: (PERMISSION_DENIED, "permission denied"),
    404: (NOT_FOUND, "not found"),
    408: (CANCELLED, "canceled"),
    409: (ABORTED, "aborted"),
    429: (RESOURCE_EXHAUSTED, "resource exhausted"),
    501: (UNIMPLEMENTED, "unimplemented"),
    503: (UNAVAILABLE, "unavailable"),
    504: (DEADLINE_EXCEEDED, "deadline exceeded"),
}


class RpcError(Exception):
    """A gRPC status a handler fails with; rendered as google.rpc.Status JSON."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self, request_id: str) -> JSONResponse:
        return JSONResponse(
            {"code": self.code, "message": f"{self.message} (request-id: {request_id})"},
            status_code=_HTTP_STATUS[self.code],
            headers={"request-id": request_id},
        )


def fault_status_body(status: int) -> dict[str, Any]:
    """google.rpc.Status for an injected fault; 429 gives `{"code":8,"message":"resource exhausted"}`."""
    fallback = (INTERNAL, "internal error") if status >= 500 else (UNKNOWN, "unknown")
    code, message = _CODE_FOR_STATUS.get(status, fallback)
    return {"code": code, "message": message}


class Kind(Enum):
    STRING = "string"
    STRINGS = "repeated string"
    INT32 = "int32"


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with `Z`, fractional digits as protojson writes them: 0, 3 or 6 (of 9).

    The exact precision C1 sends is UNVERIFIED (conductorone-notes.md §6.4, §7.7); protojson
    drops the fraction when it is zero, so whole-second times come out without one.
    """
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond % 1000 == 0 and moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    elif moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_message(
    body: bytes,
    fields: Mapping[str, Kind],
    *,
    message: str,
    enums: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Parse a JSON request body into `{camelName: value}` for the fields that are set.

    An empty body is an empty message (grpc-gateway treats EOF as no body). Anything protojson
    would refuse is INVALID_ARGUMENT with a protojson-like message. Rejecting unknown keys is
    UNVERIFIED (conductorone-notes.md §6.4): grpc-gateway's default marshaler discards them, but
    C1 has been seen to answer malformed input with "a raw protobuf parse error".
    """
    if not body.strip():
        return {}
    data = parse_json(body)
    if not isinstance(data, dict):
        raise RpcError(INVALID_ARGUMENT, f"proto: syntax error: {message} must be a JSON object")
    names = {**{name: name for name in fields}, **{_snake(name): name for name in fields}}
    enum_values = enums or {}
    parsed: dict[str, Any] = {}
    for key, value in data.items():
        name = names.get(key)
        if name is None:
            raise RpcError(INVALID_ARGUMENT, f'proto: unknown field "{key}"')
        if value is None:
            continue
        if name in enum_values:
            parsed[name] = _enum(name, value, enum_values[name])
        else:
            parsed[name] = _scalar(name, value, fields[name])
    return parsed


def _scalar(name: str, value: Any, kind: Kind) -> Any:
    if kind is Kind.STRING and isinstance(value, str):
        return value
    if kind is Kind.STRINGS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if kind is Kind.INT32:
        number = _int32(value)
        if number is not None:
            return number
    raise RpcError(
        INVALID_ARGUMENT, f"proto: invalid value for {kind.value} field {name}: {value!r}"
    )


def _int32(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    return None


def _enum(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    # protojson takes an enum's name or its number
    if isinstance(value, str) and value in allowed:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(allowed):
        return allowed[value]
    raise RpcError(INVALID_ARGUMENT, f"proto: invalid value for enum field {name}: {value!r}")


def _snake(camel: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in camel)


def query_int32(query: Mapping[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values or values[-1] == "":
        return None
    try:
        return int(values[-1])
    except ValueError:
        raise RpcError(
            INVALID_ARGUMENT, f'parsing field "{name}": invalid value "{values[-1]}"'
        ) from None


def new_request_id() -> str:
    return secrets.token_hex(16)


def collection_redirect(path: str) -> str | None:
    """C1 301-redirects a path with an empty segment (an empty id, a trailing slash) to the
    collection before it (conductorone-notes.md §6.1), like Go's path cleaning, before auth."""
    if not path.startswith("/api/v1/"):
        return None
    segments = path.split("/")
    if "" not in segments[1:]:
        return None
    return "/".join(segments[: segments.index("", 1)])


def redirect_response(location: str, request_id: str, method: str) -> Response:
    # Go's http.Redirect writes a short HTML body for GET and HEAD only.
    body = f'<a href="{location}">Moved Permanently</a>.\n\n' if method in ("GET", "HEAD") else ""
    headers = {"location": location, "request-id": request_id}
    return Response(body, status_code=301, headers=headers, media_type="text/html")
