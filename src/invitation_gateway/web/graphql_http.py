"""GraphQL over HTTP: what a well-formed request is, and the media type and status of the answer.

The GraphQL-over-HTTP specification (graphql.github.io/graphql-over-http/draft) gives a
response one of two media types, picked by `negotiate` (media_types.py) from the Accept header:

- `application/graphql-response+json`, the preferred one. A GraphQL request error (the document
  does not parse or validate, the operation cannot be determined, the variables do not coerce)
  is HTTP 400 with no `data` entry; an error inside the gateway before execution is 500.
- `application/json`, for legacy clients: every well-formed request is answered 200, request
  errors included (with `"data": null`, as Strawberry has always answered).

Either way a field error is 200 with its data, a request that is not well-formed (body not a
JSON object, `query` missing or not a string, `variables` not an object...) is 400, a POST that
is not `application/json` is 415, a mutation over GET is 405, and an Accept header that admits
neither media type is 406. Whatever is refused before GraphQL runs (these, and the middlewares'
401, 413 and 429) is one GraphQL error in the negotiated media type (`error_content_type`),
application/json when the client admits neither.

Strawberry (0.341) answers application/json only, lets a non-object JSON body or an
`operationName` of the wrong type through (an HTTP 500, or a wrong message), answers a mutation
over GET with 400 and an unknown operation name with a plain-text 400. `GraphQLOverHTTPRouter`,
the gateway router's base, overrides the few hooks where that differs; each delegates to one
function here (`read_request`, `operation_failure`, `shape`, `answer`). Several operations and
no `operationName` (Strawberry would run the first) is refused by the schema's document
extension (`schema/documents.py`), which has the parsed document. `read_request` also resolves
a trusted document's id to its text (`schema/trusted.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.exceptions import MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.fastapi.router import Context
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from ..schema.trusted import TrustedDocuments
from ..telemetry.request import note_refusal
from .media_types import (
    CONTENT_TYPES,
    GRAPHQL_RESPONSE_JSON,
    JSON,
    error_content_type,
    negotiate,
)

_STATE: Final = "graphql_http"  # where `shape` leaves the answer's outcome for `answer`


async def read_request(
    request: AsyncHTTPRequestAdapter,
    decode_json: Callable[[str | bytes], object],
    trusted: TrustedDocuments | None = None,
) -> GraphQLRequestData:
    """The request's GraphQL parameters; an HTTPException when it is not a well-formed
    GraphQL-over-HTTP request (§ Request Parameters, GET, POST) or has no acceptable answer.

    Only what the gateway serves: GET with URL parameters and POST with a JSON object, no
    batches, no multipart uploads, no streamed subscriptions (none are enabled on its router).
    """
    if negotiate(request.headers.get("accept")) is None:
        raise HTTPException(
            406, f"Not acceptable: this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}"
        )
    params: dict[str, Any]
    if request.method == "GET":
        query = request.query_params
        params = {name: query.get(name) for name in ("query", "operationName", "documentId")}
        for name in ("variables", "extensions"):
            value = query.get(name)
            params[name] = None if value is None else _decode(decode_json, value, name)
    else:
        media = (request.content_type or "").partition(";")[0].strip().lower()
        if media != JSON:
            raise HTTPException(415, f"Unsupported content type: POST a body of type {JSON}")
        body = _decode(decode_json, await request.get_body(), "request body")
        if not isinstance(body, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        params = body
    query_text, operation_name = params.get("query"), params.get("operationName")
    variables, extensions = params.get("variables"), params.get("extensions")
    for name, value, kind in (
        ("query", query_text, str),
        ("operationName", operation_name, str),
        ("variables", variables, dict),
        ("extensions", extensions, dict),
        ("documentId", params.get("documentId"), str),
    ):
        if value is not None and not isinstance(value, kind):
            shape = "a string" if kind is str else "an object"
            raise HTTPException(400, f"The GraphQL request's `{name}` must be {shape} or null")
    query_text = _trusted_query(params, query_text, extensions, trusted)
    if query_text is None:
        raise HTTPException(400, "No GraphQL query found in the request")
    return GraphQLRequestData(
        query=query_text,
        variables=variables,
        # § GET: an empty operationName is the same as none (and no operation has that name).
        operation_name=operation_name or None,
        extensions=extensions,
    )


class RequestRefused(HTTPException):
    """A refusal with a code of its own, answered as a GraphQL error in the negotiated type."""

    def __init__(self, reason: str, code: str, status: int = 400) -> None:
        super().__init__(status, reason)
        self.code = code


def _trusted_query(
    params: Mapping[str, object],
    query_text: str | None,
    extensions: Mapping[str, object] | None,
    trusted: TrustedDocuments | None,
) -> str | None:
    """The document to run: the registered one when an id was sent (schema/trusted.py)."""
    sent_id = params.get("documentId")
    persisted = (extensions or {}).get("persistedQuery")
    if sent_id is None and isinstance(persisted, dict):
        sent_id = persisted.get("sha256Hash")  # Apollo's convention
    if sent_id is not None:
        if not isinstance(sent_id, str):
            raise HTTPException(400, "A persisted document's id must be a string")
        registered = trusted.query(sent_id) if trusted is not None else None
        if registered is None:
            # Apollo's clients read this code and may retry with the document's text.
            raise RequestRefused("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        if query_text is not None and query_text != registered:
            raise HTTPException(400, "The query is not the document its id names")
        return registered
    if (
        trusted is not None
        and trusted.only
        and (query_text is None or not trusted.knows_text(query_text))
    ):
        raise RequestRefused(
            "Only trusted documents run here: send the id of a registered document",
            "PERSISTED_QUERY_NOT_IN_LIST",
        )
    return query_text


def _decode(decode_json: Callable[[str | bytes], object], data: str | bytes, what: str) -> object:
    try:
        return decode_json(data)
    except ValueError as exc:  # JSON syntax, or bytes that are not UTF-8
        raise HTTPException(400, f"Unable to parse the {what} as JSON") from exc


class _MethodNotAllowed(HTTPException):
    """A 405 that says which method would do (RFC 9110 wants an Allow header on every 405)."""

    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


def operation_failure(exc: HTTPException, method: str) -> ExecutionResult:
    """What Strawberry's plain-text refusals of an operation become (from `execute_single`).

    A mutation over GET is 405 (§ GET: MUST). An operation that cannot be determined (an
    `operationName` naming none of the document's operations) is a GraphQL request error
    (§ Status Codes, "Operation cannot be determined"): a GraphQL response, 200 or 400 by media
    type like a validation failure, keeping the BAD_REQUEST code it has always had. So is an
    empty `query`: a string, so a well-formed request whose document does not parse.
    """
    cause = exc.__cause__
    if isinstance(cause, InvalidOperationTypeError) and method == "GET":
        raise _MethodNotAllowed(exc.reason, allow="POST") from cause
    if isinstance(cause, CannotGetOperationTypeError | MissingQueryError):
        error = GraphQLError(exc.reason, extensions={"code": "BAD_REQUEST"})
        return PreExecutionError(data=None, errors=[error])
    raise exc


@dataclass(frozen=True, slots=True)
class _Outcome:
    media_type: str
    status: int


def shape(
    request: Request, result: ExecutionResult, payload: GraphQLHTTPResponse
) -> GraphQLHTTPResponse:
    """The response body for `result` in the negotiated media type (from `process_result`)."""
    media_type = negotiate(request.headers.get("accept")) or JSON
    status = 200
    if media_type == GRAPHQL_RESPONSE_JSON and _is_request_error(result):
        internal = any((e.extensions or {}).get("code") == "INTERNAL" for e in result.errors or ())
        status = 500 if internal else 400
        payload.pop("data", None)  # nothing was executed: no `data` entry at all
    setattr(request.state, _STATE, _Outcome(media_type, status))
    return payload


def _is_request_error(result: ExecutionResult) -> bool:
    """Whether `result` is a GraphQL request error: execution never started.

    Parse, validation and GetOperation failures reach us as Strawberry's `PreExecutionError`;
    variable coercion failures as graphql-core's result with no data and no error at a path
    (every field error has one).
    """
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or ()
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


async def answer(request: Request, run: Callable[[], Awaitable[Response]]) -> Response:
    """Strawberry's answer to `request` with the status and Content-Type `shape` chose.

    Strawberry's refusals stay plain text here (request_errors.py gives every 4xx on the
    endpoint the GraphQL shape in the negotiated media type); only a 405's Allow is added.
    """
    try:
        response = await run()
    except RequestRefused as exc:
        note_refusal(exc.code)
        body = {"errors": [{"message": exc.reason, "extensions": {"code": exc.code}}]}
        content_type = error_content_type(request.headers.get("accept")).decode()
        return JSONResponse(body, status_code=exc.status_code, media_type=content_type)
    except HTTPException as exc:
        headers = None
        if exc.status_code == 405:
            headers = {"Allow": exc.allow if isinstance(exc, _MethodNotAllowed) else "GET, POST"}
        return PlainTextResponse(exc.reason, status_code=exc.status_code, headers=headers)
    outcome: _Outcome | None = getattr(request.state, _STATE, None)
    if outcome is not None:  # a GraphQL response (not the GraphiQL page)
        if outcome.status != 200:
            response.status_code = outcome.status
        response.headers["content-type"] = CONTENT_TYPES[outcome.media_type]
        response.headers["vary"] = "Accept"
    return response


class GraphQLOverHTTPRouter(GraphQLRouter[Context, None]):
    """Strawberry's FastAPI router with this module's reading of requests and answers."""

    async def run(  # type: ignore[override]  # one signature for Strawberry's two overloads
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        run = partial(super().run, request, context, root_value)
        if isinstance(request, WebSocket):
            return await run()
        return await answer(request, run)

    trusted: TrustedDocuments | None = None  # set by the composition root

    async def parse_http_body(self, request_adapter: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        return await read_request(request_adapter, self.decode_json, self.trusted)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as exc:
            return operation_failure(exc, request_adapter.method)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return shape(request, result, await super().process_result(request, result))
