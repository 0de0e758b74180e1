"""Fixtures of the end-to-end tests: the secured gateway (tests/support/secured.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from invitation_gateway.sandbox import Sandbox
from tests.support.jwks_server import JwksServer
from tests.support.secured import Secured, open_secured


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    """A JWKS endpoint on 127.0.0.1; a test decides the keys it serves."""
    with JwksServer().running() as server:
        yield server


@pytest.fixture
async def secured(sandbox: Sandbox, jwks: JwksServer, tmp_path: Path) -> AsyncIterator[Secured]:
    """The gateway with authentication enforced, on the sandbox's emulators."""
    async with open_secured(sandbox, jwks, tmp_path) as gateway:
        yield gateway
