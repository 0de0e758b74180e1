"""Trusted documents: sent by id, parsed and validated at start-up, and the only ones when asked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from invitation_gateway.app import create_app
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.schema.trusted import document_id
from invitation_gateway.settings import ConfigurationError, GraphQLSettings
from tests.support.documents import CREATE
from tests.support.gateway import app_client

CREATE_ID = document_id(CREATE)
OTHER = "query Other { connections { name } }"


def org_input(sandbox: Sandbox, email: str) -> dict[str, Any]:
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    return {"input": {"target": target, "email": email, "roles": ["org:member"]}}


def manifest(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def app_with(sandbox: Sandbox, path: Path, *, only: bool = False) -> Any:
    graphql = GraphQLSettings(
        introspection=True, trusted_documents_file=path, trusted_documents_only=only
    )
    return create_app(sandbox.settings(graphql=graphql), transport=sandbox.transport(), environ={})


@pytest.fixture
async def trusted(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(sandbox, manifest(tmp_path, {CREATE_ID: CREATE}))
    async with app_client(app) as http:
        yield http


@pytest.fixture
async def trusted_only(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_with(sandbox, manifest(tmp_path, {CREATE_ID: CREATE}), only=True)
    async with app_client(app) as http:
        yield http


async def test_a_document_is_run_by_its_id(trusted: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """`documentId: sha256:<hex>` runs the registered document with the request's variables."""
    body = {"documentId": f"sha256:{CREATE_ID}", "variables": org_input(sandbox, "id@example.com")}
    answer = (await trusted.post("/graphql", json=body)).json()
    assert answer["data"]["createInvitation"]["invitation"]["status"] == "PENDING"


async def test_apollos_persisted_query_extension_works_too(
    trusted: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """`extensions.persistedQuery.sha256Hash`, as Apollo Client sends it, over GET or POST."""
    body = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": CREATE_ID}},
        "variables": org_input(sandbox, "apollo@example.com"),
    }
    answer = (await trusted.post("/graphql", json=body)).json()
    assert answer["data"]["createInvitation"]["invitation"]["email"] == "apollo@example.com"


async def test_an_unknown_id_is_persisted_query_not_found(
    trusted: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """400 with the code Apollo's clients look for; no upstream call."""
    before = len(sandbox.clerk.requests)
    response = await trusted.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert len(sandbox.clerk.requests) == before


async def test_a_query_that_is_not_its_id_is_refused(trusted: httpx.AsyncClient) -> None:
    """Sending both, they must agree: the id is a promise about the text."""
    response = await trusted.post("/graphql", json={"documentId": CREATE_ID, "query": OTHER})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_other_documents_still_run_unless_only_trusted_ones_may(
    trusted: httpx.AsyncClient,
) -> None:
    """Without TRUSTED_DOCUMENTS_ONLY, text is accepted as before."""
    answer = (await trusted.post("/graphql", json={"query": OTHER})).json()
    assert answer["data"]["connections"]


async def test_only_trusted_documents_run_when_required(
    trusted_only: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """Any other text is 400 PERSISTED_QUERY_NOT_IN_LIST and never executed."""
    refused = await trusted_only.post("/graphql", json={"query": OTHER})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    missing = await trusted_only.post("/graphql", json={"variables": {}})
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    # The registered text itself is trusted, whether sent by id or in full.
    by_text = await trusted_only.post(
        "/graphql", json={"query": CREATE, "variables": org_input(sandbox, "text@example.com")}
    )
    assert by_text.json()["data"]["createInvitation"]["invitation"]["status"] == "PENDING"


async def test_a_trusted_document_is_never_parsed_again(sandbox: Sandbox, tmp_path: Path) -> None:
    """It was parsed and validated at start-up: requests are cache hits from the first."""
    app = app_with(sandbox, manifest(tmp_path, {CREATE_ID: CREATE}))
    schema = app.state.schema
    async with app_client(app) as http:
        body = {"documentId": CREATE_ID, "variables": org_input(sandbox, "a@example.com")}
        await http.post("/graphql", json=body)
    assert schema.documents.hits == 1


def test_apollos_manifest_format_is_read(sandbox: Sandbox, tmp_path: Path) -> None:
    """`apollo-persisted-query-manifest` with its operations list."""
    content = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": CREATE_ID, "body": CREATE, "name": "Create", "type": "mutation"}],
    }
    app_with(sandbox, manifest(tmp_path, content))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"0" * 64: CREATE}, "is not the SHA-256 of its document"),
        ({document_id("query { nope }"): "query { nope }"}, "Cannot query field 'nope'"),
        ({document_id("query {"): "query {"}, "Syntax Error"),
        (["not", "a", "map"], "expected an object"),
        ({CREATE_ID: 42}, "must be a string"),
    ],
)
def test_a_bad_file_stops_start_up_naming_the_entry(
    sandbox: Sandbox, tmp_path: Path, content: object, problem: str
) -> None:
    """Every document is checked before serving: the file, the id, the problem."""
    with pytest.raises(
        ConfigurationError, match="GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_FILE"
    ) as caught:
        app_with(sandbox, manifest(tmp_path, content))
    assert problem in str(caught.value)


def test_a_file_that_is_not_json_stops_start_up(sandbox: Sandbox, tmp_path: Path) -> None:
    """Unreadable as JSON: one clear error."""
    path = tmp_path / "trusted.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not JSON"):
        app_with(sandbox, path)


def test_only_without_a_file_is_a_configuration_error() -> None:
    """Requiring trusted documents without any would refuse everything."""
    with pytest.raises(ValidationError, match="TRUSTED_DOCUMENTS_FILE"):
        GraphQLSettings(trusted_documents_only=True)
