"""The operations GraphiQL opens with run as they are against the sandbox."""

from __future__ import annotations

import pytest

from invitation_gateway.web.examples import examples
from tests.support.gateway import GatewayClient


@pytest.mark.parametrize("index", range(len(examples())))
async def test_each_preloaded_example_succeeds_on_the_sandbox(
    gateway: GatewayClient, index: int
) -> None:
    """A newcomer pressing Run on any preloaded example gets data and no errors of any kind."""
    example = gateway.examples[index]
    body = await gateway.execute(example.query, dict(example.variables or {}))
    assert "errors" not in body, body
    for payload in body["data"].values():
        if isinstance(payload, dict) and "userErrors" in payload:
            assert payload["userErrors"] == [], (example.name, payload)
