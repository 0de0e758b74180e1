"""GraphQL over HTTP: every MUST and SHOULD of the specification, against the running gateway.

The rules are those of the GraphQL-over-HTTP draft (graphql.github.io/graphql-over-http/draft,
quoted by section) and the numbered audits of its conformance suite, `graphql-http` (ids such as
`22EB`). Where the two disagree the specification wins, and the test says so: the suite's
application/json audits D477, F5AF, 3715, 9FEx, FB9x, F05x and 368x expect 200 for a request
that is not well-formed, which the draft since asks to be 400 ("Invalid parameters", "JSON
parsing failure"); its 80D8 expects application/json with no Accept header, which the draft
asked only before its 2025-01-01 watershed.

Each test talks HTTP to the sandbox gateway (`gateway` fixture), or to a gateway built for the
rule (authentication enforced, a tiny budget, a small body cap).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.types.execution import PreExecutionError

from invitation_gateway.app import create_app
from invitation_gateway.callers.api_keys import entry_for, new_api_key
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.settings import (
    AuthSettings,
    GraphQLSettings,
    PolicySettings,
    RateLimitSettings,
)
from invitation_gateway.web import graphql_http
from tests.support.documents import CREATE
from tests.support.gateway import GatewayClient, app_client

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BOTH = [GRAPHQL_RESPONSE, JSON]
TYPENAME = "{ __typename }"
TWO_OPERATIONS = "query First { __typename } query Second { connections { name } }"
QUERY_AND_MUTATION = f"query Read {{ __typename }} {CREATE}"
NEEDS_ID = "query Get($id: ID!) { invitation(id: $id) { id } }"
PAGE = "query Page($first: Int!) { invitations(targets: [], first: $first) { edges { cursor } } }"
MISSING = object()  # a request parameter left out altogether


def create_variables(sandbox: Sandbox, email: str = "http@example.com") -> dict[str, Any]:
    target = {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}
    return {"input": {"target": target, "email": email}}


def upstream_calls(sandbox: Sandbox) -> int:
    return len(sandbox.conductorone.requests) + len(sandbox.clerk.requests)


@pytest.fixture(autouse=True)
def _quiet_upstreams(sandbox: Sandbox) -> None:
    sandbox.conductorone.requests.clear()
    sandbox.clerk.requests.clear()


async def send(
    http: httpx.AsyncClient,
    method: str = "POST",
    *,
    body: Any = MISSING,
    content: bytes | None = None,
    params: dict[str, str] | None = None,
    accept: str | None = GRAPHQL_RESPONSE,
    content_type: str | None = JSON,
) -> httpx.Response:
    """One request to /graphql; `accept` or `content_type` None sends no such header at all."""
    if body is not MISSING:
        content = json.dumps(body, ensure_ascii=False).encode()
    request = http.build_request(method, "/graphql", content=content, params=params)
    for name, value in (("accept", accept), ("content-type", content_type)):
        if value is None:
            request.headers.pop(name, None)
        else:
            request.headers[name] = value
    return await http.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].partition(";")[0].strip()


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


def assert_request_error(response: httpx.Response, status: int, code: str) -> None:
    """A refusal in graphql-response+json: `status`, our media type, errors only, no `data`."""
    assert response.status_code == status, response.text
    assert media_type(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


# -- Media types and Accept -------------------------------------------------------------------


async def test_graphql_response_json_is_accepted_and_matched(gateway: GatewayClient) -> None:
    """22EB (§ Body, Legacy watershed: MUST since 2025): Accept graphql-response+json is served in it."""
    response = await send(gateway.http, body={"query": TYPENAME})
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_application_json_is_accepted_and_matched(gateway: GatewayClient) -> None:
    """4655 (§ Body: MUST support a request accepting application/json): served in application/json."""
    response = await send(gateway.http, body={"query": TYPENAME}, accept=JSON)
    assert response.status_code == 200
    assert media_type(response) == JSON
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_wildcard_accept_gets_application_json(gateway: GatewayClient) -> None:
    """47DE (SHOULD accept */* and use application/json): what fetch and curl send by default."""
    response = await send(gateway.http, body={"query": TYPENAME}, accept="*/*")
    assert response.status_code == 200
    assert media_type(response) == JSON


async def test_no_accept_header_gets_graphql_response_json(gateway: GatewayClient) -> None:
    """§ Legacy watershed: from 2025-01-01, no Accept SHOULD be treated as graphql-response+json.

    (Audit 80D8 asks for application/json, the draft's rule before the watershed.)
    """
    response = await send(gateway.http, body={"query": TYPENAME}, accept=None)
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{GRAPHQL_RESPONSE}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{JSON};q=0, */*", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("application/*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
    ids=["recommended", "tie", "json-lower", "graphql-lower", "json-refused", "graphql-refused",
         "application-wildcard", "browser"],
)  # fmt: skip
async def test_the_highest_priority_acceptable_media_type_is_used(
    gateway: GatewayClient, accept: str, expected: str
) -> None:
    """§ Body: MUST respect Accept and use the highest priority media type it supports."""
    response = await send(gateway.http, body={"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == expected


@pytest.mark.parametrize("accept", ["text/html", "text/plain, application/xml", "image/*"])
async def test_an_unacceptable_accept_header_is_406_and_nothing_runs(
    gateway: GatewayClient, sandbox: Sandbox, accept: str
) -> None:
    """§ Body: no supported media type in Accept: 406 Not Acceptable (RECOMMENDED), stop processing."""
    document = {"query": CREATE, "variables": create_variables(sandbox)}
    response = await send(gateway.http, body=document, accept=accept)
    assert response.status_code == 406
    assert media_type(response) == JSON  # the client takes neither: the server's choice
    assert codes(response) == ["BAD_REQUEST"]
    assert upstream_calls(sandbox) == 0


@pytest.mark.parametrize("accept", BOTH)
async def test_the_content_type_names_the_media_type_and_utf8(
    gateway: GatewayClient, accept: str
) -> None:
    """§ Body: MUST indicate the media type with Content-Type, SHOULD indicate the encoding."""
    response = await send(gateway.http, body={"query": TYPENAME}, accept=accept)
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"


async def test_answers_vary_on_accept(gateway: GatewayClient) -> None:
    """RFC 9110 §12.5.5 (SHOULD): a negotiated answer says `Vary: Accept`, for caches of GETs."""
    response = await send(gateway.http, "GET", params={"query": TYPENAME})
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize("accept", BOTH)
async def test_the_response_is_utf8(gateway: GatewayClient, accept: str) -> None:
    """82A3 (MUST use utf-8 encoding when responding): non-ASCII text comes back as UTF-8."""
    response = await send(
        gateway.http, body={"query": PAGE, "variables": {"first": "é"}}, accept=accept
    )
    text = response.content.decode("utf-8")  # strict: raises on anything else
    assert "é" in json.loads(text)["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content_type", "rule"),
    [(f"{JSON}; charset=utf-8", "BF61"), (JSON, "78D5")],
    ids=["charset-given", "charset-assumed"],
)
async def test_utf8_requests_are_read_as_utf8(
    gateway: GatewayClient, content_type: str, rule: str
) -> None:
    """BF61 (MUST accept utf-8 encoded requests), 78D5 (MUST assume utf-8 when unspecified)."""
    response = await send(
        gateway.http,
        body={"query": PAGE, "variables": {"first": "é"}},  # echoed back in the error message
        accept=JSON,
        content_type=content_type,
    )
    assert response.status_code == 200, rule
    assert "'é'" in response.json()["errors"][0]["message"], rule


# -- Request: methods, URL, body ----------------------------------------------------------------


async def test_queries_and_mutations_share_one_url(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """§ URL: a server MUST NOT require different URLs for queries and mutations."""
    query = await send(gateway.http, body={"query": TYPENAME})
    mutation = await send(
        gateway.http, body={"query": CREATE, "variables": create_variables(sandbox)}
    )
    assert (query.status_code, mutation.status_code) == (200, 200)
    assert mutation.json()["data"]["createInvitation"]["userErrors"] == []


@pytest.mark.parametrize("accept", BOTH)
async def test_post_with_application_json_is_accepted(gateway: GatewayClient, accept: str) -> None:
    """2C94, 03D4 (§ Request, § POST: MUST accept POST requests encoded as application/json)."""
    response = await send(gateway.http, body={"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert "errors" not in response.json()


@pytest.mark.parametrize("accept", BOTH)
async def test_get_queries_are_accepted(gateway: GatewayClient, accept: str) -> None:
    """5A70 (§ Request: MAY accept GET): the gateway does, parameters in the URL's query."""
    response = await send(gateway.http, "GET", params={"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == accept
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", BOTH)
async def test_get_variables_and_extensions_are_json_strings(
    gateway: GatewayClient, accept: str
) -> None:
    """D6D5, 6A70 (§ GET: variables and extensions MUST be encoded as JSON strings)."""
    params = {
        "query": "query Type($name: String!) { __type(name: $name) { name } }",
        "variables": json.dumps({"name": "Invitation"}),
        "extensions": json.dumps({"some": "value"}),
    }
    response = await send(gateway.http, "GET", params=params, accept=accept)
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Invitation"}}}


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("parameter", ["variables", "extensions"])
async def test_get_parameters_that_are_not_json_are_400(
    gateway: GatewayClient, accept: str, parameter: str
) -> None:
    """§ GET: variables/extensions not JSON: not a well-formed request, SHOULD be 400."""
    params = {"query": TYPENAME, parameter: "{not json"}
    response = await send(gateway.http, "GET", params=params, accept=accept)
    assert response.status_code == 400
    assert media_type(response) == accept
    assert codes(response) == ["BAD_REQUEST"]


async def test_get_with_an_empty_operation_name_runs_the_only_operation(
    gateway: GatewayClient,
) -> None:
    """§ GET: an empty operationName is equivalent to omitting it."""
    params = {"query": TYPENAME, "operationName": ""}
    response = await send(gateway.http, "GET", params=params)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize(
    ("document", "operation_name"),
    [(CREATE, None), (QUERY_AND_MUTATION, "Create")],
    ids=["mutation", "mutation-by-name"],
)
async def test_a_mutation_over_get_is_405_and_not_executed(
    gateway: GatewayClient,
    sandbox: Sandbox,
    accept: str,
    document: str,
    operation_name: str | None,
) -> None:
    """9C48 (§ GET: MUST respond 405 to a mutation over GET and halt execution)."""
    params = {"query": document, "variables": json.dumps(create_variables(sandbox))}
    if operation_name:
        params["operationName"] = operation_name
    response = await send(gateway.http, "GET", params=params, accept=accept)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert media_type(response) == accept
    assert codes(response) == ["BAD_REQUEST"]
    assert upstream_calls(sandbox) == 0


async def test_a_post_without_content_type_is_4xx(gateway: GatewayClient) -> None:
    """9ABE (§ POST: no Content-Type SHOULD be rejected with a 4xx): 415."""
    response = await send(gateway.http, content=b'{"query": "{ __typename }"}', content_type=None)
    assert_request_error(response, 415, "BAD_REQUEST")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/graphql", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/json-patch+json"],
)  # fmt: skip
async def test_a_post_of_another_media_type_is_415(
    gateway: GatewayClient, sandbox: Sandbox, content_type: str
) -> None:
    """§ POST: only application/json is supported (MAY others): 415, never a 'simple' CORS request."""
    content = json.dumps({"query": CREATE, "variables": create_variables(sandbox)}).encode()
    response = await send(gateway.http, content=content, content_type=content_type)
    assert_request_error(response, 415, "BAD_REQUEST")
    assert upstream_calls(sandbox) == 0


@pytest.mark.parametrize("accept", BOTH)
async def test_a_post_without_a_body_is_400(gateway: GatewayClient, accept: str) -> None:
    """7267 (§ POST: a POST request MUST have a body): 400 with errors."""
    response = await send(gateway.http, accept=accept)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


# -- Request parameters: what is well-formed -----------------------------------------------------


@pytest.mark.parametrize("accept", BOTH)
async def test_a_body_that_is_not_json_is_400(gateway: GatewayClient, accept: str) -> None:
    """2163, 60AA (§ JSON parsing failure: SHOULD be 400, for either media type; not D477's 200)."""
    response = await send(gateway.http, content=b'{ "not a JSON', accept=accept)
    assert response.status_code == 400
    assert media_type(response) == accept
    assert "data" not in response.json()
    assert codes(response) == ["BAD_REQUEST"]


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("content", [b'"{ __typename }"', b"1", b"null", b"[]", b"\xff"])
async def test_a_body_that_is_not_a_json_object_is_400(
    gateway: GatewayClient, accept: str, content: bytes
) -> None:
    """§ JSON Encoding: a request is a JSON object (map) in UTF-8; anything else is 400, not a 500."""
    response = await send(gateway.http, content=content, accept=accept)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize(
    "body", [{"qeury": TYPENAME}, {"query": None}, {}], ids=["typo", "null", "empty"]
)
async def test_a_missing_query_is_400_without_data(
    gateway: GatewayClient, accept: str, body: dict[str, Any]
) -> None:
    """6610, 17C5, 3E36, 34D6 (§ Invalid parameters: 400, no data; for application/json too, not 3715/F5AF)."""
    response = await send(gateway.http, body=body, accept=accept)
    assert response.status_code == 400
    assert media_type(response) == accept
    assert "data" not in response.json()
    assert codes(response) == ["BAD_REQUEST"]


INVALID_VALUES = [{"obj": "ect"}, 0, False, ["array"]]
INVALID_MAPS = ["string", 0, False, ["array"]]


WRONG_TYPES = [
    pytest.param(parameter, value, f"{prefix}{i}", id=f"{prefix}{i}-{parameter}-{value!r}")
    for parameter, prefix, values in [
        ("query", "4F5", INVALID_VALUES),
        ("operationName", "E3E", INVALID_VALUES),
        ("variables", "69B", INVALID_MAPS),
        ("extensions", "904", INVALID_MAPS),
    ]
    for i, value in enumerate(values)
]


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize(("parameter", "value", "rule"), WRONG_TYPES)
async def test_a_parameter_of_the_wrong_type_is_400(
    gateway: GatewayClient, accept: str, parameter: str, value: Any, rule: str
) -> None:
    """4F5x, E3Ex, 69Bx, 904x (§ Request Parameters: query/operationName strings, variables/extensions maps; else 400)."""
    body = {"query": TYPENAME, parameter: value}
    response = await send(gateway.http, body=body, accept=accept)
    assert response.status_code == 400, rule
    assert media_type(response) == accept, rule
    assert "data" not in response.json(), rule
    assert codes(response) == ["BAD_REQUEST"], rule


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_null_optional_parameters_are_as_if_absent(
    gateway: GatewayClient, accept: str, parameter: str
) -> None:
    """94B0-2, 0220-2 (§ Request Parameters: null for an optional parameter is the same as none)."""
    response = await send(gateway.http, body={"query": TYPENAME, parameter: None}, accept=accept)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", BOTH)
async def test_a_string_operation_name_selects_the_operation(
    gateway: GatewayClient, accept: str
) -> None:
    """8161, B8B3 (§ Request Parameters: operationName, a string, names the operation to run)."""
    body = {"query": TWO_OPERATIONS, "operationName": "First"}
    response = await send(gateway.http, body=body, accept=accept)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", BOTH)
async def test_map_variables_and_extensions_are_accepted(
    gateway: GatewayClient, accept: str
) -> None:
    """2EA1, 28B9, 428F, 1B7A (§ Request Parameters: variables and extensions are maps)."""
    body = {
        "query": "query Type($name: String!) { __type(name: $name) { name } }",
        "variables": {"name": "Invitation"},
        "extensions": {"some": "value"},
    }
    response = await send(gateway.http, body=body, accept=accept)
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Invitation"}}}


# -- Status codes: application/graphql-response+json --------------------------------------------


@pytest.mark.parametrize("document", ["{", "", "query {"], ids=["brace", "empty", "unfinished"])
async def test_a_document_that_does_not_parse_is_400_without_data(
    gateway: GatewayClient, document: str
) -> None:
    """556A, 865D, D586 (§ graphql-response+json, Document parsing failure: 400, no data entry)."""
    response = await send(gateway.http, body={"query": document})
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) in (["GRAPHQL_VALIDATION_FAILED"], ["BAD_REQUEST"])


async def test_a_document_that_does_not_validate_is_400_without_data(
    gateway: GatewayClient,
) -> None:
    """74FF, 51FE, 5E5B (§ Document validation failure: SHOULD be denied execution with 400)."""
    response = await send(gateway.http, body={"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"})
    assert_request_error(response, 400, "GRAPHQL_VALIDATION_FAILED")


@pytest.mark.parametrize(
    "document",
    [
        "query { " + " ".join(["__typename"] * 6_000) + " }",
        "query {" + " ".join(f"a{i}: connections {{ name }}" for i in range(200)) + "}",
        "query { " + 'node(id: "x") { ... on Invitation { id } } ' * 30 + "}",
    ],
    ids=["tokens", "aliases", "root-fields"],
)
async def test_the_gateways_own_limits_are_validation_failures(
    gateway: GatewayClient, document: str
) -> None:
    """§ Validation: MAY apply additional validation rules; a failure is then 400 without data."""
    response = await send(gateway.http, body={"query": document})
    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize("accept", BOTH)
async def test_a_document_that_does_not_validate_is_not_executed(
    gateway: GatewayClient, sandbox: Sandbox, accept: str
) -> None:
    """§ Execution: a request that does not pass validation should not be executed."""
    broken = CREATE.replace("userErrors {", "noSuchField userErrors {", 1)
    body = {"query": broken, "variables": create_variables(sandbox)}
    response = await send(gateway.http, body=body, accept=accept)
    assert response.json()["errors"]
    assert upstream_calls(sandbox) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"query": TWO_OPERATIONS}, id="no-name"),
        pytest.param({"query": TWO_OPERATIONS, "operationName": "Third"}, id="unknown-name"),
    ],
)
async def test_an_operation_that_cannot_be_determined_is_400_without_data(
    gateway: GatewayClient, body: dict[str, Any]
) -> None:
    """§ Operation cannot be determined: GetOperation() fails, SHOULD NOT execute, 400."""
    response = await send(gateway.http, body=body)
    assert_request_error(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "variables", [{}, {"id": 42.5}, {"id": None}], ids=["missing", "wrong-type", "null"]
)
async def test_variables_that_do_not_coerce_are_400_without_data(
    gateway: GatewayClient, sandbox: Sandbox, variables: dict[str, Any]
) -> None:
    """§ Variable coercion failure: CoerceVariableValues() fails, SHOULD NOT execute, 400."""
    response = await send(gateway.http, body={"query": NEEDS_ID, "variables": variables})
    assert_request_error(response, 400, "GRAPHQL_VALIDATION_FAILED")
    assert upstream_calls(sandbox) == 0


async def test_a_field_error_with_data_is_200(gateway: GatewayClient) -> None:
    """EE52 (§ graphql-response+json: data present and not null MUST be 2xx, SHOULD be 200)."""
    response = await send(gateway.http, body={"query": NEEDS_ID, "variables": {"id": "nope"}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"invitation": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize("accept", BOTH)
async def test_a_field_error_that_nulls_all_data_is_200(
    gateway: GatewayClient, accept: str
) -> None:
    """§ Field errors encountered during execution: data null SHOULD be 2xx, RECOMMENDED 200."""
    response = await send(
        gateway.http, body={"query": PAGE, "variables": {"first": 500}}, accept=accept
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 500), (JSON, 200)])
def test_a_failure_inside_the_gateway_before_execution_is_500(accept: str, status: int) -> None:
    """§ graphql-response+json: no data entry MUST be 4xx or 5xx "as appropriate": INTERNAL is 5xx."""
    request = Request({"type": "http", "headers": [(b"accept", accept.encode())], "state": {}})
    masked = GraphQLError("Internal error.", extensions={"code": "INTERNAL"})
    payload = graphql_http.shape(
        request, PreExecutionError(data=None, errors=[masked]), {"data": None, "errors": []}
    )
    assert request.state.graphql_http.status == status
    assert ("data" in payload) == (accept == JSON)


# -- Status codes: application/json (legacy clients) --------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "rule"),
    [
        ({"query": "{"}, "GRAPHQL_VALIDATION_FAILED", "572B document parsing failure"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", "FDE2 document validation failure"),
        ({"query": TWO_OPERATIONS, "operationName": "Third"}, "BAD_REQUEST", "no operation"),
        ({"query": NEEDS_ID, "variables": {}}, "GRAPHQL_VALIDATION_FAILED", "variable coercion"),
    ],
    ids=["parse", "validate", "operation", "variables"],
)
async def test_request_errors_are_200_with_application_json(
    gateway: GatewayClient, body: dict[str, Any], code: str, rule: str
) -> None:
    """572B, FDE2 (§ application/json: SHOULD be 200 for every well-formed request, errors or not)."""
    response = await send(gateway.http, body=body, accept=JSON)
    assert response.status_code == 200, rule
    assert media_type(response) == JSON, rule
    payload = response.json()
    assert payload["data"] is None, rule  # as the gateway has always answered these
    assert [e["extensions"]["code"] for e in payload["errors"]] == [code], rule


async def test_data_with_application_json_is_200(gateway: GatewayClient) -> None:
    """§ application/json: a non-null data entry MUST be 200, field errors or not."""
    body = {"query": NEEDS_ID, "variables": {"id": "nope"}}
    response = await send(gateway.http, body=body, accept=JSON)
    assert response.status_code == 200
    assert response.json()["data"] == {"invitation": None}


# -- Refusals before GraphQL runs: the same media types -----------------------------------------


@pytest.fixture
async def enforced(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox gateway with authentication enforced (one API key, allowed to read)."""
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(entry_for("bff", new_api_key()))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        '[[allow]]\ncallers = ["api_key:bff"]\nactions = ["read"]\n'
        'targets = [{ kind = "CLERK_APPLICATION" }]\n'
    )
    settings = sandbox.settings(
        auth=AuthSettings(mode="enforced", api_keys_file=keys_file),
        policy=PolicySettings(file=policy_file),
    )
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        yield http


@pytest.mark.parametrize("accept", BOTH)
async def test_a_caller_not_permitted_is_401_in_the_negotiated_media_type(
    enforced: httpx.AsyncClient, accept: str
) -> None:
    """§ graphql-response+json: a client not permitted SHOULD get 403, 401 or similar."""
    response = await send(enforced, body={"query": TYPENAME}, accept=accept)
    assert response.status_code == 401
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert codes(response) == ["UNAUTHENTICATED"]
    assert "data" not in response.json()


@pytest.mark.parametrize("accept", BOTH)
async def test_over_budget_is_429_in_the_negotiated_media_type(
    sandbox: Sandbox, accept: str
) -> None:
    """§ URL: a server MAY forbid requests (here: over budget), SHOULD use the relevant 4xx."""
    settings = sandbox.settings(rate_limit=RateLimitSettings(requests_per_minute=1))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        await send(http, body={"query": TYPENAME})
        response = await send(http, body={"query": TYPENAME}, accept=accept)
    assert response.status_code == 429
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert codes(response) == ["RATE_LIMITED"]


@pytest.mark.parametrize("accept", BOTH)
async def test_an_oversized_body_is_413_in_the_negotiated_media_type(
    sandbox: Sandbox, accept: str
) -> None:
    """§ URL: a server MAY forbid requests (here: too large), SHOULD use the relevant 4xx."""
    settings = sandbox.settings(graphql=GraphQLSettings(introspection=True, max_body_bytes=1024))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        body = {"query": TYPENAME, "variables": {"pad": "x" * 2048}}
        response = await send(http, body=body, accept=accept)
    assert response.status_code == 413
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert codes(response) == ["PAYLOAD_TOO_LARGE"]


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405_in_the_negotiated_media_type(
    gateway: GatewayClient, accept: str, method: str
) -> None:
    """§ Request: a server MUST accept POST and MAY accept others: these are 405 with Allow."""
    response = await send(gateway.http, method, body={"query": TYPENAME}, accept=accept)
    assert response.status_code == 405
    assert "allow" in response.headers
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    assert codes(response) == ["BAD_REQUEST"]
