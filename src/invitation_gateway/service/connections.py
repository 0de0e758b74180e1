"""Which adapter serves a target: connections by provider and name, adapters by target kind.

The environment configures the connection named `default` for each provider (DESIGN.md); the
connections file (`GATEWAY_CONNECTIONS__FILE`) adds more names. A target that omits its
connection gets `default`, or the only connection of that provider when there is exactly one.
The service sees connections only through the port's `UpstreamConnection` protocol.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..configuration_error import ConfigurationError
from ..domain.errors import InvalidInvitationInput
from ..domain.invitations import DEFAULT_CONNECTION, InvitationTarget, Provider, TargetKind
from ..providers.base import InvitationPort, UpstreamConnection


class Connections:
    """The configured upstream connections and their adapters."""

    def __init__(self, connections: Iterable[UpstreamConnection]) -> None:
        self._by_key: dict[tuple[Provider, str], UpstreamConnection] = {}
        for connection in connections:
            key = (connection.info.provider, connection.info.name)
            if key in self._by_key:
                # The root refuses a name used twice before opening anything (upstreams.py);
                # here too, since a second one would silently shadow the first.
                raise ConfigurationError(
                    f"a second {key[0].value} connection named {key[1]!r} is configured"
                )
            self._by_key[key] = connection

    @property
    def all(self) -> list[UpstreamConnection]:
        return list(self._by_key.values())

    def resolve(
        self, kind: TargetKind, target_id: str | None, connection: str | None
    ) -> tuple[InvitationPort, InvitationTarget]:
        """The adapter and the complete target (connection named, default id applied)."""
        found = self._connection(kind.provider, connection)
        port = found.ports.get(kind)
        if port is None:
            raise InvalidInvitationInput.at(
                ("target", "kind"), f"connection {found.info.name!r} does not offer {kind.value}"
            )
        if target_id is None and kind.needs_target_id:
            target_id = found.info.default_target_id
        return port, InvitationTarget(kind=kind, id=target_id, connection=found.info.name)

    def port_for(self, target: InvitationTarget) -> InvitationPort | None:
        """The adapter for a target that came from a global id; None when it is not configured."""
        try:
            port, resolved = self.resolve(target.kind, target.id, target.connection)
        except InvalidInvitationInput:
            return None
        # The gateway mints ids with the connection's real name; an id using an alias
        # ("default" for the only connection) would be judged by the policy on a name that is
        # not the one it reaches, so it names nothing.
        return port if resolved.connection == target.connection else None

    def _connection(self, provider: Provider, name: str | None) -> UpstreamConnection:
        # "default" names the default connection, whatever it is called: the one named
        # `default`, else the provider's only one.
        if name is not None and (name != DEFAULT_CONNECTION or (provider, name) in self._by_key):
            found = self._by_key.get((provider, name))
            if found is None:
                names = self._names(provider)
                known = f"; configured: {', '.join(names)}" if names else ""
                raise InvalidInvitationInput.at(
                    ("target", "connection"),
                    f"no {provider.value} connection named {name!r} is configured{known}",
                )
            return found
        default = self._by_key.get((provider, DEFAULT_CONNECTION))
        if default is not None:
            return default
        candidates = [c for (p, _), c in self._by_key.items() if p is provider]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise InvalidInvitationInput.at(
                ("target", "kind"), f"no {provider.value} connection is configured on this gateway"
            )
        raise InvalidInvitationInput.at(
            ("target", "connection"),
            f"several {provider.value} connections are configured and none is named "
            f"{DEFAULT_CONNECTION!r}: name one; configured: {', '.join(self._names(provider))}",
        )

    def _names(self, provider: Provider) -> list[str]:
        return sorted(n for p, n in self._by_key if p is provider)
