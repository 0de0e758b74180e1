"""The operations GraphiQL opens with run as they are against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from invitation_gateway.web.examples import examples
from tests.support.gateway import GatewayClient

TWO_CLERK_INSTANCES = "List across two Clerk instances"


def reported_errors(value: Any, path: str = "data") -> list[tuple[str, Any]]:
    """Every non-empty `errors` or `userErrors` list anywhere in an answer's data, with its path:
    a bulk item's userErrors and a list's per-target errors as much as a payload's own."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"errors", "userErrors"} and item:
                found.append((f"{path}.{key}", item))
            else:
                found.extend(reported_errors(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(reported_errors(item, f"{path}[{index}]"))
    return found


@pytest.mark.parametrize("index", range(len(examples())))
async def test_each_preloaded_example_succeeds_on_the_sandbox(
    gateway: GatewayClient, index: int
) -> None:
    """A newcomer pressing Run on any preloaded example gets data and no errors of any kind:
    none at the top, no userErrors (bulk items included), no failed target in a list."""
    example = gateway.examples[index]
    body = await gateway.execute(example.query, dict(example.variables or {}))
    assert "errors" not in body, body
    assert body["data"], (example.name, body)
    assert reported_errors(body["data"]) == [], example.name


async def test_the_two_clerk_instances_example_answers_from_both(gateway: GatewayClient) -> None:
    """Listing across two Clerk instances returns invitations from the default and the staging
    connection, and no target fails."""
    [example] = [e for e in gateway.examples if e.name == TWO_CLERK_INSTANCES]
    body = await gateway.execute(example.query, dict(example.variables or {}))
    answer = body["data"]["invitations"]
    assert answer["errors"] == []
    connections = {edge["node"]["target"]["connection"] for edge in answer["edges"]}
    assert connections == {"default", "staging"}
    kinds = {
        (edge["node"]["target"]["connection"], edge["node"]["target"]["kind"])
        for edge in answer["edges"]
    }
    assert kinds == {
        ("default", "CLERK_ORGANIZATION"),
        ("staging", "CLERK_ORGANIZATION"),
        ("staging", "CLERK_APPLICATION"),
    }
