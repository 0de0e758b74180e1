"""The authorization policy: who may read, create and revoke invitations where, granting which roles.

`GATEWAY_POLICY__FILE` is TOML, deny by default (DESIGN.md "Fixed formats"). Each `[[allow]]` rule:

```
callers  "jwt" (any verified token), "api_key:<name>", "api_key:*" (any API key), or "dev"
         (the development caller of GATEWAY_AUTH__MODE=disabled)
claims   optional: dotted claim path -> allowed values; the claim must equal one of them
         (by equality, so `true` and `1` are values too); a missing claim never matches
actions  any of "read", "create", "revoke"
targets  { kind, id?, connection? }; an omitted id or connection means any. `id` may hold
         `{dotted.claim.path}` placeholders: the caller's claim, which must be a string, or the
         target matches nothing
roles    roles a create may grant; omitted = none; ["*"] = any
```

A request is allowed when one rule, on its own, matches the caller, its claims, the action and the
target and (for a create) lets it grant every requested role: rules never add up.

The `connections` query lists only the connections one of a caller's rules reaches (`reaches`):
a target of a kind the connection offers, naming that connection or none.

Clerk session tokens carry the active organization as `o.id` / `o.rol` (v2; `rol` has no `org:`
prefix) or as `org_id` / `org_role` (v1, `org:admin`); a policy that accepts both writes two rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invitation_gateway.domain.invitations import InvitationTarget, TargetKind

from ._policy_file import Action, ClaimPath, PolicyFileError, RuleSpec, Template, read_rules
from .identity import Caller

__all__ = ["Action", "Policy", "PolicyFileError"]

_MISSING = object()


class Policy:
    """The rules of one policy file; `allows` decides, denying whatever no rule allows."""

    __slots__ = ("_rules",)

    def __init__(self) -> None:
        """A policy with no rules, which denies everything."""
        self._rules: tuple[_Rule, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Policy:
        """Read and check the file; PolicyFileError names the path, rule and line of each problem."""
        policy = cls()
        policy._rules = tuple(_Rule.of(spec) for _, spec in read_rules(path))
        return policy

    def allows(
        self,
        caller: Caller,
        action: Action,
        target: InvitationTarget,
        roles: Sequence[str] = (),
    ) -> bool:
        """Whether one rule lets `caller` do `action` on `target`, granting every one of `roles`.

        `roles` matter only to a create; asking for none needs no role permission.
        """
        return any(rule.allows(caller, action, target, roles) for rule in self._rules)

    def reaches(self, caller: Caller, kinds: Iterable[TargetKind], connection: str) -> bool:
        """Whether one rule lets `caller` do anything at all on a target of one of `kinds` on
        `connection`: what decides which connections the `connections` query shows it."""
        wanted = frozenset(kinds)
        return any(rule.reaches(caller, wanted, connection) for rule in self._rules)

    def __repr__(self) -> str:
        count = len(self._rules)
        return f"<Policy: {count} rule{'' if count == 1 else 's'}>"


@dataclass(frozen=True, slots=True)
class _Target:
    kind: TargetKind
    id: Template | None
    connection: str | None

    def matches(self, target: InvitationTarget, claims: Mapping[str, Any]) -> bool:
        if not self.offers(frozenset((target.kind,)), target.connection):
            return False
        if self.id is None:
            return True
        return target.id is not None and target.id == _substitute(self.id, claims)

    def offers(self, kinds: frozenset[TargetKind], connection: str) -> bool:
        """Whether this pattern names a target of one of `kinds` on `connection`, whatever id."""
        return self.kind in kinds and self.connection in (None, connection)


@dataclass(frozen=True, slots=True)
class _Rule:
    any_jwt: bool
    dev: bool
    any_api_key: bool
    api_keys: frozenset[str]
    claims: tuple[tuple[ClaimPath, tuple[object, ...]], ...]
    actions: frozenset[Action]
    targets: tuple[_Target, ...]
    roles: frozenset[str] | None  # None: any role ("*")

    @classmethod
    def of(cls, spec: RuleSpec) -> _Rule:
        roles = spec.roles or []
        return cls(
            any_jwt="jwt" in spec.callers,
            dev="dev" in spec.callers,
            any_api_key="api_key:*" in spec.callers,
            api_keys=frozenset(
                pattern.removeprefix("api_key:")
                for pattern in spec.callers
                if pattern.startswith("api_key:")
            ),
            claims=tuple((path, tuple(values)) for path, values in spec.claims.items()),
            actions=frozenset(spec.actions),
            targets=tuple(
                _Target(target.kind, target.id, target.connection) for target in spec.targets
            ),
            roles=None if "*" in roles else frozenset(roles),
        )

    def allows(
        self, caller: Caller, action: Action, target: InvitationTarget, roles: Sequence[str]
    ) -> bool:
        return (
            self._holds_for(caller)
            and action in self.actions
            and any(pattern.matches(target, caller.claims) for pattern in self.targets)
            and (action != "create" or self.roles is None or self.roles.issuperset(roles))
        )

    def reaches(self, caller: Caller, kinds: frozenset[TargetKind], connection: str) -> bool:
        return self._holds_for(caller) and any(
            pattern.offers(kinds, connection) for pattern in self.targets
        )

    def _holds_for(self, caller: Caller) -> bool:
        """Whether the rule admits `caller` and its claims, whatever the action and target."""
        return self._admits(caller) and all(
            _claim_in(caller.claims, path, values) for path, values in self.claims
        )

    def _admits(self, caller: Caller) -> bool:
        if caller.kind == "jwt":
            return self.any_jwt
        if caller.kind == "api_key":
            return self.any_api_key or caller.name in self.api_keys
        return caller.kind == "dev" and self.dev


def _claim(claims: Mapping[str, Any], path: ClaimPath) -> object:
    value: object = claims
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _claim_in(claims: Mapping[str, Any], path: ClaimPath, allowed: tuple[object, ...]) -> bool:
    value = _claim(claims, path)
    # `True == 1` in Python; a boolean claim matches only a boolean value, and a number a number.
    return any(
        isinstance(value, bool) == isinstance(candidate, bool) and value == candidate
        for candidate in allowed
    )


def _substitute(template: Template, claims: Mapping[str, Any]) -> str | None:
    """The id with each placeholder replaced by its claim; None when one is missing or no string."""
    parts: list[str] = []
    for part in template:
        if isinstance(part, str):
            parts.append(part)
            continue
        value = _claim(claims, part)
        if not isinstance(value, str):
            return None
        parts.append(value)
    return "".join(parts)
