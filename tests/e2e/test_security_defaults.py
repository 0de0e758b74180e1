"""What `serve` does when nothing about security is configured, and what the sandbox does instead.

`AuthSettings()` and `GraphQLSettings()` left as they are mean `serve`'s defaults: enforced
authentication, introspection off, no "Did you mean", no GraphiQL. The only things a
deployment must add are a way for callers to authenticate (here an API keys file) and a
policy. The sandbox disables authentication, and says so loudly at start-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.callers.api_keys import entry_for, new_api_key
from invitation_gateway.sandbox import Sandbox, create_sandbox_app
from invitation_gateway.settings import (
    AuthSettings,
    ConfigurationError,
    CorsSettings,
    GraphQLSettings,
    PolicySettings,
)
from tests.support.gateway import app_client
from tests.support.logs import LogLines

POLICY = """
[[allow]]
callers = ["api_key:bff"]
actions = ["read"]
targets = [{ kind = "CLERK_ORGANIZATION" }]
"""
INTROSPECTION = "{ __schema { types { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Invitation") { fields { name } } }'
TYPO = '{ invitaton(id: "x") { id } }'
ARGUMENT_TYPO = '{ invitation(idd: "x") { id } }'


@dataclass
class Served:
    http: httpx.AsyncClient
    key: str

    async def post(self, document: str, **headers: str) -> httpx.Response:
        return await self.http.post("/graphql", json={"query": document}, headers=headers)

    async def errors(self, document: str) -> list[dict[str, Any]]:
        """The errors of `document` sent with the API key (the request itself is let in)."""
        response = await self.post(document, **{"x-api-key": self.key})
        assert response.status_code == 200, response.text
        errors: list[dict[str, Any]] = response.json()["errors"]
        return errors


@pytest.fixture
async def served(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Served]:
    """The gateway with serve's security defaults, plus an API keys file and a policy."""
    key = new_api_key()
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(entry_for("bff", key))
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY)
    settings = sandbox.settings(
        auth=AuthSettings(api_keys_file=keys_file),
        graphql=GraphQLSettings(),
        policy=PolicySettings(file=policy_file),
    )
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        sandbox.clerk.requests.clear()
        sandbox.conductorone.requests.clear()
        yield Served(http, key)


async def test_no_credentials_is_401_unauthenticated(served: Served, sandbox: Sandbox) -> None:
    """serve's default mode is enforced: a request without credentials is refused, unsent."""
    response = await served.post('{ invitation(id: "x") { id } }')
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing credentials"}
    assert not sandbox.clerk.requests
    assert not sandbox.conductorone.api_requests


@pytest.mark.parametrize("document", [INTROSPECTION, TYPE_INTROSPECTION], ids=["schema", "type"])
async def test_introspection_is_refused(served: Served, document: str) -> None:
    """serve's default: even an authenticated caller cannot read the schema."""
    errors = await served.errors(document)
    assert errors
    assert all("introspection has been disabled" in e["message"] for e in errors), errors


@pytest.mark.parametrize("document", [TYPO, ARGUMENT_TYPO], ids=["field", "argument"])
async def test_typos_get_no_suggestions(served: Served, document: str) -> None:
    """serve's default: a misspelt name is refused without naming the right one."""
    errors = await served.errors(document)
    assert errors
    assert not any("Did you mean" in error["message"] for error in errors), errors


async def test_there_is_no_graphiql_page(served: Served) -> None:
    """serve's default: the GraphiQL page is not served (GET /graphql for HTML is a 404)."""
    response = await served.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_the_sandbox_warns_loudly_at_start_up(sandbox: Sandbox, json_logs: LogLines) -> None:
    """The sandbox runs without authentication and logs a WARNING saying so, once."""
    app = create_sandbox_app(sandbox)
    async with app_client(app) as http:
        response = await http.post("/graphql", json={"query": TYPO})
    [warning] = [r for r in json_logs.records if "AUTHENTICATION IS DISABLED" in r["event"]]
    assert warning["level"] == "warning"
    assert "GATEWAY_AUTH__MODE=disabled" in warning["event"]
    assert "'dev'" in warning["event"]  # the development caller every request acts as
    # and it is the sandbox's whole point: no credentials, suggestions on
    assert "Did you mean 'invitation'" in response.json()["errors"][0]["message"]


async def test_serve_refuses_to_start_without_a_policy(sandbox: Sandbox, tmp_path: Path) -> None:
    """serve's default mode with no policy file: create_app refuses, naming the variable."""
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(entry_for("bff", new_api_key()))
    settings = sandbox.settings(auth=AuthSettings(api_keys_file=keys_file))
    with pytest.raises(ConfigurationError, match="GATEWAY_POLICY__FILE"):
        create_app(settings, transport=sandbox.transport(), environ={})


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://app.example.com", True), ("https://evil.example.net", False)],
)
async def test_cors_preflight_is_answered_only_for_listed_origins(
    sandbox: Sandbox, origin: str, allowed: bool
) -> None:
    """A preflight from a listed origin gets the CORS headers; a foreign origin gets none."""
    settings = sandbox.settings(cors=CorsSettings(allow_origins=["https://app.example.com"]))
    app = create_app(settings, transport=sandbox.transport(), environ={})
    async with app_client(app) as http:
        response = await http.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type",
            },
        )
    granted = response.headers.get("access-control-allow-origin")
    assert (granted == origin) is allowed
    assert granted != "*"
    if allowed:
        assert response.headers["access-control-allow-credentials"] == "true"


def test_a_wildcard_origin_is_refused() -> None:
    """GATEWAY_CORS__ALLOW_ORIGINS='*' would give every site the frontends' tokens: refused."""
    with pytest.raises(ValueError, match="cannot be"):
        CorsSettings(allow_origins=["*"])
