"""Which connection serves a target (service.connections)."""

from __future__ import annotations

from typing import Any

import pytest

from invitation_gateway.configuration_error import ConfigurationError
from invitation_gateway.domain.errors import InvalidInvitationInput
from invitation_gateway.domain.invitations import InvitationTarget, Provider, TargetKind
from invitation_gateway.providers.base import ConnectionInfo
from invitation_gateway.providers.connection import Connection
from invitation_gateway.service.connections import Connections


def clerk(name: str) -> Connection:
    info = ConnectionInfo(
        name, Provider.CLERK, (TargetKind.CLERK_APPLICATION,), "http://clerk.test"
    )
    port: Any = object()
    return Connection(info, {TargetKind.CLERK_APPLICATION: port})


def test_default_means_the_only_connection_whatever_its_name() -> None:
    """With one connection named "eu", an omitted or "default" connection resolves to it."""
    connections = Connections([clerk("eu")])
    for name in (None, "default"):
        _, target = connections.resolve(TargetKind.CLERK_APPLICATION, None, name)
        assert target.connection == "eu"


def test_a_named_connection_must_exist() -> None:
    """Naming a connection that is not configured is INVALID_INPUT on target.connection."""
    with pytest.raises(InvalidInvitationInput) as caught:
        Connections([clerk("default")]).resolve(TargetKind.CLERK_APPLICATION, None, "eu")
    assert caught.value.field == ("target", "connection")


def test_several_connections_and_no_default_need_a_name() -> None:
    """Two connections and none called default: the caller must say which, and is told the
    names that exist."""
    with pytest.raises(InvalidInvitationInput) as caught:
        Connections([clerk("us"), clerk("eu")]).resolve(TargetKind.CLERK_APPLICATION, None, None)
    assert caught.value.field == ("target", "connection")
    assert str(caught.value).endswith("name one; configured: eu, us"), str(caught.value)


def test_the_unknown_name_error_lists_the_names_that_exist() -> None:
    """Naming a connection that is not configured lists the provider's configured names."""
    with pytest.raises(InvalidInvitationInput) as caught:
        Connections([clerk("default"), clerk("staging")]).resolve(
            TargetKind.CLERK_APPLICATION, None, "prod"
        )
    assert str(caught.value).endswith("configured: default, staging"), str(caught.value)


def test_a_connection_configured_twice_is_a_configuration_error() -> None:
    """Two connections with one provider and name: the configuration error start-up reports."""
    with pytest.raises(ConfigurationError, match="a second CLERK connection named 'eu'"):
        Connections([clerk("eu"), clerk("eu")])


def test_a_provider_without_connections_is_not_offered() -> None:
    """A ConductorOne target on a Clerk-only gateway is INVALID_INPUT on target.kind."""
    with pytest.raises(InvalidInvitationInput) as caught:
        Connections([clerk("default")]).resolve(TargetKind.CONDUCTORONE_DIRECTORY, "dir1", None)
    assert caught.value.field == ("target", "kind")


def test_an_id_naming_an_alias_reaches_nothing() -> None:
    """An id whose connection is "default" while the only one is "eu" names no invitation:
    the policy would judge "default" while the call reached "eu"."""
    connections = Connections([clerk("eu")])
    aliased = InvitationTarget(TargetKind.CLERK_APPLICATION, None, "default")
    real = InvitationTarget(TargetKind.CLERK_APPLICATION, None, "eu")
    assert connections.port_for(aliased) is None
    assert connections.port_for(real) is not None
