"""No "Did you mean …" from a gateway whose introspection is off; the sandbox keeps them.

A suggestion names a field, argument, type, enum value or input field of the schema: with
introspection off it would reveal the schema all the same. graphql-core makes suggestions while
validating the document and while coercing the variables; every kind is tried here, over HTTP,
against a gateway built as `serve` builds it (introspection off) and as the sandbox does (on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.emulators.sandbox_seed import ORGANIZATION_ID
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.settings import GraphQLSettings
from tests.support.gateway import app_client

ORG = {"kind": "CLERK_ORGANIZATION", "id": ORGANIZATION_ID}
LIST = (
    "query($targets: [InvitationTargetInput!]!) { invitations(targets: $targets) { totalCount } }"
)
CREATE = """mutation($input: CreateInvitationInput!) {
  createInvitation(input: $input) { invitation { id } } }"""

# kind -> (document, variables, the suggestion graphql-core makes when it may)
TYPOS: dict[str, tuple[str, dict[str, Any], str]] = {
    "field": ('{ invitaton(id: "x") { id } }', {}, "Did you mean 'invitation'"),
    "argument": ('{ invitation(idd: "x") { id } }', {}, "Did you mean 'id'?"),
    "enum value in the document": (
        '{ invitations(targets: [{kind: CLERK_ORGANIZATON, id: "x"}]) { totalCount } }',
        {},
        "Did you mean the enum value 'CLERK_ORGANIZATION'",
    ),
    "enum value in variables": (
        LIST,
        {"targets": [{**ORG, "kind": "CLERK_ORGANIZATON"}]},
        "Did you mean the enum value 'CLERK_ORGANIZATION'",
    ),
    "input field in the document": (
        'mutation { createInvitation(input: {target: {kind: CLERK_ORGANIZATION, id: "x"}, '
        'email: "a@example.com", rolse: ["org:member"]}) { invitation { id } } }',
        {},
        "Did you mean 'roles'?",
    ),
    "input field in variables": (
        CREATE,
        {"input": {"target": ORG, "email": "a@example.com", "emial": "a@example.com"}},
        "Did you mean 'email'?",
    ),
    "type": (
        "query($id: ID!, $x: Invitaton) { invitation(id: $id) { id } }",
        {"id": "x"},
        "Did you mean 'Invitation'?",
    ),
}


async def post(http: httpx.AsyncClient, document: str, variables: dict[str, Any]) -> list[str]:
    """The messages of the request errors the gateway answers (legacy JSON: always 200)."""
    response = await http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body  # refused before execution, every time
    return [error["message"] for error in body["errors"]]


@pytest.fixture(params=[False, True], ids=["serve", "sandbox"])
async def either_gateway(
    request: pytest.FixtureRequest, sandbox: Sandbox
) -> AsyncIterator[tuple[bool, httpx.AsyncClient]]:
    """The gateway with introspection off (`serve`'s default) or on (the sandbox's)."""
    introspection: bool = request.param
    settings = sandbox.settings(graphql=GraphQLSettings(introspection=introspection))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        yield introspection, http


@pytest.mark.parametrize("kind", TYPOS)
async def test_suggestions_only_where_introspection_is_on(
    either_gateway: tuple[bool, httpx.AsyncClient], kind: str
) -> None:
    """Each kind of typo: no "Did you mean" with introspection off; the suggestion with it on."""
    introspection, http = either_gateway
    document, variables, suggestion = TYPOS[kind]
    messages = await post(http, document, variables)
    if introspection:
        assert any(suggestion in message for message in messages), messages
    else:
        assert messages  # still refused, with the error that says what is wrong
        assert not any("Did you mean" in message for message in messages), messages


async def test_a_typo_sent_twice_gets_no_suggestion_either_time(sandbox: Sandbox) -> None:
    """Invalid documents are never cached: the second request is validated the same way."""
    settings = sandbox.settings(graphql=GraphQLSettings(introspection=False))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    document, variables, _ = TYPOS["argument"]
    async with app_client(app) as http:
        first = await post(http, document, variables)
        second = await post(http, document, variables)
    assert (
        first
        == second
        == [
            "Unknown argument 'idd' on field 'Query.invitation'.",
            "Argument 'Query.invitation(id:)' of type 'ID!' is required, but it was not provided.",
        ]
    )


async def test_valid_documents_are_still_cached_without_suggestions(sandbox: Sandbox) -> None:
    """Validating in the suggestions extension leaves the document cache working."""
    settings = sandbox.settings(graphql=GraphQLSettings(introspection=False))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    variables = {"targets": [ORG]}
    async with app_client(app) as http:
        for _ in range(2):
            response = await http.post("/graphql", json={"query": LIST, "variables": variables})
            assert response.json()["data"]["invitations"]["totalCount"] >= 1
    assert app.state.schema.documents.hits == 1
