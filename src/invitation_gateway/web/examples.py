"""The example operations GraphiQL opens with: real documents with variables, ready to run."""

from __future__ import annotations

from .playground import ExampleOperation

INVITATION_FIELDS = """
      id
      provider
      providerInvitationId
      target { kind id connection }
      email
      displayName
      status
      roles
      url
      createdAt
      expiresAt"""

USER_ERROR_FIELDS = """
      __typename
      code
      message
      field"""


def _create(operation: str) -> str:
    return f"""# Try a bad email, a second role or the same email twice to see userErrors.
mutation {operation}($input: CreateInvitationInput!) {{
  createInvitation(input: $input) {{
    invitation {{{INVITATION_FIELDS}
    }}
    userErrors {{{USER_ERROR_FIELDS}
    }}
  }}
}}
"""


REVOKE = f"""# Revoke by global id alone (or paste an id from a createInvitation result).
# Revoking twice answers NOT_REVOCABLE, with the invitation as it now stands.
mutation RevokeInvitation($input: RevokeInvitationInput!) {{
  revokeInvitation(input: $input) {{
    invitation {{{INVITATION_FIELDS}
    }}
    userErrors {{{USER_ERROR_FIELDS}
      ... on NotRevocableError {{ invitation {{ status }} }}
    }}
  }}
}}
"""

CONNECTIONS = """# What this gateway is connected to, and which target kinds each connection offers.
query Connections {
  connections { name provider targetKinds defaultTargetId }
}
"""


def examples(
    *,
    directory_id: str | None = None,
    organization_id: str | None = None,
    revocable_id: str | None = None,
) -> list[ExampleOperation]:
    """Examples filled with real ids where known (the sandbox knows its seed)."""
    return [
        ExampleOperation(
            name="Invite into a Clerk organization",
            query=_create("InviteToClerkOrganization"),
            variables={
                "input": {
                    "target": {"kind": "CLERK_ORGANIZATION", "id": organization_id or "org_…"},
                    "email": "new.colleague@example.com",
                    "roles": ["org:member"],
                }
            },
        ),
        ExampleOperation(
            name="Invite into a ConductorOne directory",
            query=_create("InviteToConductorOneDirectory"),
            variables={
                "input": {
                    "target": {
                        "kind": "CONDUCTORONE_DIRECTORY",
                        "id": directory_id or "<directory app id>",
                    },
                    "email": "contractor@example.com",
                    "displayName": "Casey Contractor",
                    "purpose": "Q4 audit",
                }
            },
        ),
        ExampleOperation(
            name="Invite into a Clerk application",
            query=_create("InviteToClerkApplication"),
            variables={
                "input": {
                    "target": {"kind": "CLERK_APPLICATION"},
                    "email": "early.adopter@example.com",
                    "redirectUrl": "https://app.example.com/welcome",
                    "expiresInDays": 7,
                }
            },
        ),
        ExampleOperation(
            name="Revoke an invitation",
            query=REVOKE,
            variables={"input": {"id": revocable_id or "<an invitation id>"}},
        ),
        ExampleOperation(name="Connections", query=CONNECTIONS),
    ]


DEFAULT_EXAMPLES = examples()
