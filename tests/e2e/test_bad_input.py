"""Bad input of every kind: a clear, typed error, never a 500, no upstream call when avoidable."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from invitation_gateway.sandbox import Sandbox
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import GatewayClient

TEN_KB = "x" * 10_240


def no_upstream_calls(sandbox: Sandbox) -> bool:
    return not sandbox.conductorone.requests and not sandbox.clerk.requests


@pytest.fixture(autouse=True)
def _quiet_upstreams(sandbox: Sandbox) -> None:
    sandbox.conductorone.requests.clear()
    sandbox.clerk.requests.clear()


def c1(sandbox: Sandbox) -> dict[str, Any]:
    return {"kind": "CONDUCTORONE_DIRECTORY", "id": sandbox.seed.directory_id}


def org(sandbox: Sandbox) -> dict[str, Any]:
    return {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}


APP = {"kind": "CLERK_APPLICATION"}

CASES: list[tuple[str, Any, list[list[str]]]] = [
    ("invalid email", lambda s: {"target": APP, "email": "not-an-email"}, [["input", "email"]]),
    ("blank email", lambda s: {"target": APP, "email": "  "}, [["input", "email"]]),
    (
        "10 kB email",
        lambda s: {"target": APP, "email": TEN_KB + "@example.com"},
        [["input", "email"]],
    ),
    (
        "10 kB display name",
        lambda s: {"target": c1(s), "email": "a@example.com", "displayName": TEN_KB},
        [["input", "displayName"]],
    ),
    (
        "10 kB purpose",
        lambda s: {"target": c1(s), "email": "a@example.com", "purpose": TEN_KB},
        [["input", "purpose"]],
    ),
    (
        "10 kB role",
        lambda s: {"target": c1(s), "email": "a@example.com", "roles": [TEN_KB]},
        [["input", "roles", "0"]],
    ),
    (
        "10 kB target id",
        lambda s: {
            "target": {"kind": "CLERK_ORGANIZATION", "id": TEN_KB},
            "email": "a@example.com",
            "roles": ["org:member"],
        },
        [["input", "target", "id"]],
    ),
    (
        "missing org id",
        lambda s: {
            "target": {"kind": "CLERK_ORGANIZATION"},
            "email": "a@example.com",
            "roles": ["org:member"],
        },
        [["input", "target", "id"]],
    ),
    (
        "extra app id",
        lambda s: {
            "target": {"kind": "CLERK_APPLICATION", "id": "app_1"},
            "email": "a@example.com",
        },
        [["input", "target", "id"]],
    ),
    (
        "roles for a Clerk app",
        lambda s: {"target": APP, "email": "a@example.com", "roles": ["org:member"]},
        [["input", "roles"]],
    ),
    (
        "two roles for a Clerk org",
        lambda s: {
            "target": org(s),
            "email": "a@example.com",
            "roles": ["org:member", "org:admin"],
        },
        [["input", "roles"]],
    ),
    (
        "no role for a Clerk org",
        lambda s: {"target": org(s), "email": "a@example.com"},
        [["input", "roles"]],
    ),
    (
        "purpose for Clerk",
        lambda s: {"target": APP, "email": "a@example.com", "purpose": "audit"},
        [["input", "purpose"]],
    ),
    (
        "redirectUrl for C1",
        lambda s: {"target": c1(s), "email": "a@example.com", "redirectUrl": "https://x.example"},
        [["input", "redirectUrl"]],
    ),
    (
        "publicMetadata for C1",
        lambda s: {"target": c1(s), "email": "a@example.com", "publicMetadata": {"a": 1}},
        [["input", "publicMetadata"]],
    ),
    (
        "publicMetadata not an object",
        lambda s: {"target": APP, "email": "a@example.com", "publicMetadata": [1, 2]},
        [["input", "publicMetadata"]],
    ),
    (
        "expiresInDays out of range",
        lambda s: {"target": APP, "email": "a@example.com", "expiresInDays": 400},
        [["input", "expiresInDays"]],
    ),
    (
        "unknown connection",
        lambda s: {"target": {**APP, "connection": "eu"}, "email": "a@example.com"},
        [["input", "target", "connection"]],
    ),
    (
        "several problems at once",
        lambda s: {"target": APP, "email": "nope", "purpose": "x", "roles": ["r"]},
        [["input", "email"], ["input", "roles"], ["input", "purpose"]],
    ),
]


@pytest.mark.parametrize(("name", "build", "fields"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_create_input_is_a_validation_error_with_no_upstream_call(
    gateway: GatewayClient, sandbox: Sandbox, name: str, build: Any, fields: list[list[str]]
) -> None:
    """Input known to be wrong is an INVALID_INPUT userError on its field; no upstream is called."""
    body = await gateway.execute(CREATE, {"input": build(sandbox)})
    assert "errors" not in body, body
    payload = body["data"]["createInvitation"]
    assert payload["invitation"] is None
    assert sorted(e["field"] for e in payload["userErrors"]) == sorted(fields)
    assert {(e["__typename"], e["code"]) for e in payload["userErrors"]} == {
        ("ValidationError", "INVALID_INPUT")
    }
    assert no_upstream_calls(sandbox)


def _forge(parts: list[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode())
        .rstrip(b"=")
        .decode()
    )


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "garbled!!",
        TEN_KB,
        "SW52aXRhdGlvbjox",  # base64 of "Invitation:1", Relay style, not ours
        _forge(["Invitation", "default", "CLERK_ORGANIZATION", "../users", "orginv_1"]),
        _forge(["Invitation", "default", "CLERK_ORGANIZATION", "org_1", "orginv_1/../../x"]),
    ],
    ids=[
        "empty",
        "garbled",
        "10kB",
        "relay-style",
        "forged-target-traversal",
        "forged-upstream-traversal",
    ],
)
async def test_garbled_or_forged_ids_are_invalid_input(
    gateway: GatewayClient, sandbox: Sandbox, bad_id: str
) -> None:
    """An id the gateway did not issue is INVALID_INPUT on input.id, and no upstream is called."""
    payload = (await gateway.execute(REVOKE, {"input": {"id": bad_id}}))["data"]["revokeInvitation"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "id"])
    ]
    assert no_upstream_calls(sandbox)


async def test_well_formed_id_for_an_unconfigured_connection_is_not_found(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A forged but well-formed id naming a connection we do not have is NOT_FOUND, no call."""
    forged = _forge(["Invitation", "elsewhere", "CLERK_APPLICATION", None, "inv_1"])
    payload = (await gateway.execute(REVOKE, {"input": {"id": forged}}))["data"]["revokeInvitation"]
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    assert no_upstream_calls(sandbox)


async def test_malformed_json_is_a_400_not_a_500(gateway: GatewayClient) -> None:
    """A request body that is not JSON is rejected with 400 and a readable message."""
    response = await gateway.http.post(
        "/graphql", content=b'{"query": "mutation {', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "JSON" in error["message"]


@pytest.mark.parametrize(
    ("method", "content", "content_type"),
    [
        ("POST", b'{"variables": {}}', "application/json"),  # no query at all
        ("POST", b"query { connections { name } }", "text/plain"),  # unsupported content type
        ("PUT", b"{}", "application/json"),  # wrong method
    ],
)
async def test_unusable_requests_get_graphql_shaped_errors(
    gateway: GatewayClient, method: str, content: bytes, content_type: str
) -> None:
    """Requests Strawberry cannot even read still answer JSON with errors and a code."""
    response = await gateway.http.request(
        method, "/graphql", content=content, headers={"content-type": content_type}
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_oversized_body_is_413_and_never_parsed(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """A body past the cap is 413 with a GraphQL-shaped error, and no upstream is called."""
    huge = json.dumps({"query": CREATE, "variables": {"input": {"email": "x" * 400_000}}})
    response = await gateway.http.post(
        "/graphql", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert no_upstream_calls(sandbox)


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (CREATE, {}),  # missing required variable
        (CREATE, {"input": {"email": "a@example.com", "target": {"kind": "NOPE"}}}),  # bad enum
        (CREATE, {"input": {"email": 42, "target": {"kind": "CLERK_APPLICATION"}}}),  # wrong type
        (
            CREATE,
            {
                "input": {
                    "email": "a@example.com",
                    "target": {"kind": "CLERK_APPLICATION"},
                    "bogus": 1,
                }
            },
        ),  # unknown field
        ("mutation { createInvitation(input: {}) { invitation { id } } }", None),
        ("query { nope }", None),
        ("{", None),
    ],
    ids=[
        "missing-variable",
        "bad-enum",
        "wrong-type",
        "unknown-field",
        "missing-fields",
        "unknown-query-field",
        "syntax",
    ],
)
async def test_malformed_operations_are_typed_request_errors(
    gateway: GatewayClient, sandbox: Sandbox, document: str, variables: Any
) -> None:
    """Invalid GraphQL requests get top-level errors with a code, never a 500 or an upstream call."""
    response = await gateway.http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code in {200, 400}
    errors = response.json()["errors"]
    assert errors
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)
    assert no_upstream_calls(sandbox)


async def test_token_floods_are_refused(gateway: GatewayClient) -> None:
    """A query document with thousands of tokens is refused before it is validated or run."""
    flood = "query { " + " ".join(["__typename"] * 6_000) + " }"
    response = await gateway.http.post("/graphql", json={"query": flood})
    assert response.status_code in {200, 400}
    assert "token" in response.text.lower()
    assert not response.json().get("data")


async def test_alias_floods_are_refused(gateway: GatewayClient) -> None:
    """Hundreds of aliases of one field are refused before anything runs."""
    flood = "query {" + " ".join(f"a{i}: connections {{ name }}" for i in range(200)) + "}"
    response = await gateway.http.post("/graphql", json={"query": flood})
    assert response.status_code in {200, 400}
    assert "aliases" in response.text.lower()
    assert "data" not in response.json() or not response.json()["data"]


async def test_nan_in_metadata_is_invalid_input_not_internal(
    gateway: GatewayClient, sandbox: Sandbox
) -> None:
    """NaN (which Python's JSON parser lets through) in publicMetadata is INVALID_INPUT."""
    raw = (
        '{"query": '
        + json.dumps(CREATE)
        + ', "variables": {"input": {"target": {"kind": "CLERK_APPLICATION"},'
        ' "email": "nan@example.com", "publicMetadata": {"score": NaN}}}}'
    )
    response = await gateway.http.post(
        "/graphql", content=raw, headers={"content-type": "application/json"}
    )
    payload = response.json()["data"]["createInvitation"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "publicMetadata"])
    ]
    assert no_upstream_calls(sandbox)
