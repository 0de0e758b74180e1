"""What is measured: the GraphQL documents, the request each server gets, what a good answer is.

One operation (create in a ConductorOne directory, create in a Clerk organization, revoke a
Clerk organization invitation, create with an invalid email) is sent to each server in the
shape that server takes: the stub gets the vendor's own request, the thin proxy the GraphQL
variables as plain JSON, the gateway a GraphQL document with those variables. Every email is
unique (`@N@` is replaced by a request counter), and revokes cycle through distinct ids minted
with the gateway's own global-id encoder. Each answer is checked for the success shape: a
GraphQL answer with a top-level error or a user error is a failed request, never throughput.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from invitation_gateway.domain.invitations import InvitationRef, InvitationTarget, TargetKind
from invitation_gateway.schema.global_id import encode

DIRECTORY = "2benchDirectory000000000001"
ORGANIZATION = "org_2benchOrganization"
TARGETS = [
    {"kind": "CONDUCTORONE_DIRECTORY", "id": DIRECTORY},
    {"kind": "CLERK_ORGANIZATION", "id": ORGANIZATION},
]
REVOKE_IDS = 1_000  # distinct invitation ids the revoke runs cycle through

CREATE = """mutation CreateInvitation($input: CreateInvitationInput!) {
  createInvitation(input: $input) {
    invitation { id status email roles target { kind id connection } createdAt expiresAt }
    userErrors { __typename code message field }
  }
}"""

REVOKE = """mutation RevokeInvitation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) {
    invitation { id status email }
    userErrors { __typename code message field }
  }
}"""

Check = Callable[[int, bytes], bool]


@dataclass(frozen=True)
class Workload:
    """The requests of one load run (path and body templates, `@N@` a counter) and their check.

    `expect` and `reject` are the substrings wrk looks for in each answer (a good one holds
    every `expect` and no `reject`); `check` parses the answer, for the Python load generator
    and the sample check after a wrk run.
    """

    requests: tuple[tuple[str, str], ...]
    expect: tuple[str, ...]
    reject: tuple[str, ...]
    check: Check

    def render(self, serial: int) -> tuple[str, bytes]:
        path, body = self.requests[serial % len(self.requests)]
        number = str(serial)
        return path.replace("@N@", number), body.replace("@N@", number).encode()


@dataclass(frozen=True)
class Scenario:
    """One line of the report's scenarios: an operation, a concurrency, the servers compared."""

    name: str
    about: str
    operation: str
    connections: int
    servers: tuple[str, ...]


BASELINED = ("stub", "proxy", "gateway")
SCENARIOS = (
    Scenario("c1-create-1", "createInvitation, ConductorOne directory", "c1-create", 1, BASELINED),
    Scenario(
        "c1-create-16", "createInvitation, ConductorOne directory", "c1-create", 16, BASELINED
    ),
    Scenario(
        "clerk-org-create", "createInvitation, Clerk organization", "clerk-create", 16, BASELINED
    ),
    Scenario("clerk-revoke", "revokeInvitation, Clerk organization", "clerk-revoke", 16, BASELINED),
    Scenario("bad-input", "createInvitation, invalid emails", "bad-input", 16, ("gateway",)),
    Scenario("auth", "createInvitation, ConductorOne, JWT enforced", "c1-create", 16, ("auth",)),
)
REFERENCE = "c1-create-16"  # what bad-input and auth are compared with (the gateway's row)
SOAK = Scenario("soak", "createInvitation, ConductorOne, JWT enforced", "c1-create", 16, ("auth",))


def _input(kind: str) -> dict[str, Any]:
    if kind == "c1-create":
        return {"target": TARGETS[0], "email": "bench+@N@@example.com"}
    if kind == "clerk-create":
        return {"target": TARGETS[1], "email": "bench+@N@@example.com", "roles": ["org:member"]}
    return {"target": TARGETS[0], "email": "not-an-email-@N@"}


def _revoke_ids() -> list[tuple[str, str]]:
    target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, ORGANIZATION, "default")
    return [
        (provider_id, encode(InvitationRef(target, provider_id)))
        for provider_id in (f"orginv_2bench{n:08d}" for n in range(REVOKE_IDS))
    ]


def workload(operation: str, server: str) -> Workload:
    """The requests `server` ("stub", "proxy", "gateway" or "auth") gets for `operation`."""
    if operation == "clerk-revoke":
        ids = _revoke_ids()
        if server == "stub":
            base = f"/v1/organizations/{ORGANIZATION}/invitations"
            return _plain([(f"{base}/{provider_id}/revoke", "{}") for provider_id, _ in ids])
        if server == "proxy":
            return _plain([("/revoke", _dumps({"input": {"id": gid}})) for _, gid in ids])
        bodies = [_dumps({"query": REVOKE, "variables": {"input": {"id": g}}}) for _, g in ids]
        return _graphql("revokeInvitation", [("/graphql", body) for body in bodies])
    if server == "stub":
        if operation == "c1-create":
            path = f"/api/v1/local-directory-configs/{DIRECTORY}/invitations"
            return _plain([(path, '{"email": "bench+@N@@example.com", "displayName": "B @N@"}')])
        path = f"/v1/organizations/{ORGANIZATION}/invitations"
        return _plain([(path, '{"email_address": "bench+@N@@example.com", "role": "org:member"}')])
    if server == "proxy":
        return _plain([("/create", _dumps({"input": _input(operation)}))])
    body = _dumps({"query": CREATE, "variables": {"input": _input(operation)}})
    if operation == "bad-input":
        return Workload(
            (("/graphql", body),),
            expect=('"code":"INVALID_INPUT"', '"invitation":null'),
            reject=('"errors"',),
            check=_invalid_input,
        )
    return _graphql("createInvitation", [("/graphql", body)])


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _plain(requests: list[tuple[str, str]]) -> Workload:
    """The stub's and the proxy's answers: 200 with an invitation (or the vendor's object)."""
    return Workload(tuple(requests), expect=('"id"',), reject=(), check=_has_id)


def _graphql(field: str, requests: list[tuple[str, str]]) -> Workload:
    return Workload(
        tuple(requests),
        expect=('"userErrors":[]', '"invitation":{"id"'),
        reject=('"errors"',),
        check=lambda status, body: _succeeded(field, status, body),
    )


def _parse(status: int, body: bytes) -> Any:
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _has_id(status: int, body: bytes) -> bool:
    parsed = _parse(status, body)
    if isinstance(parsed, dict) and isinstance(parsed.get("invitation"), dict):
        parsed = parsed["invitation"]
    return isinstance(parsed, dict) and bool(parsed.get("id"))


def _payload(field: str, status: int, body: bytes) -> dict[str, Any] | None:
    parsed = _parse(status, body)
    if not isinstance(parsed, dict) or parsed.get("errors") or not parsed.get("data"):
        return None
    payload = parsed["data"].get(field)
    return payload if isinstance(payload, dict) else None


def _succeeded(field: str, status: int, body: bytes) -> bool:
    payload = _payload(field, status, body)
    if payload is None or payload.get("userErrors") != []:
        return False
    invitation = payload.get("invitation")
    return isinstance(invitation, dict) and bool(invitation.get("id"))


def _invalid_input(status: int, body: bytes) -> bool:
    payload = _payload("createInvitation", status, body)
    if payload is None or payload.get("invitation") is not None:
        return False
    errors = payload.get("userErrors") or []
    return bool(errors) and all(error.get("code") == "INVALID_INPUT" for error in errors)
