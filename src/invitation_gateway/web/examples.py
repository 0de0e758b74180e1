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

LIST = f"""# Invitations across several targets at once, newest first. The targets are read
# concurrently; a target that fails shows in `errors` while the others still answer.
# Pass pageInfo.endCursor as $after for the next page.
query Invitations($targets: [InvitationTargetInput!]!, $status: [InvitationStatus!], $after: String) {{
  invitations(targets: $targets, status: $status, first: 10, after: $after) {{
    edges {{
      node {{{INVITATION_FIELDS}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
    totalCount
    errors {{ target {{ kind id connection }} code message }}
  }}
}}
"""

GET = f"""# One invitation by its global id (one upstream read; null when it does not exist).
query Invitation($id: ID!) {{
  invitation(id: $id) {{{INVITATION_FIELDS}
  }}
}}
"""

CREATE_MANY = f"""# Up to 100 invitations in one call; each item succeeds or fails on its own.
mutation InviteMany($input: CreateInvitationsInput!) {{
  createInvitations(input: $input) {{
    results {{
      index
      invitation {{ id email status target {{ kind id }} }}
      userErrors {{{USER_ERROR_FIELDS}
      }}
    }}
    userErrors {{{USER_ERROR_FIELDS}
    }}
  }}
}}
"""

CONNECTIONS = """# What this gateway is connected to, and which target kinds each connection offers.
query Connections {
  connections { name provider targetKinds defaultTargetId circuit }
}
"""


def examples(
    *,
    directory_id: str | None = None,
    organization_id: str | None = None,
    revocable_id: str | None = None,
    staging_organization_id: str | None = None,
) -> list[ExampleOperation]:
    """Examples filled with real ids where known (the sandbox knows its seed)."""
    organization = {"kind": "CLERK_ORGANIZATION", "id": organization_id or "org_…"}
    directory = {"kind": "CONDUCTORONE_DIRECTORY", "id": directory_id or "<directory app id>"}
    staging_organization = {
        "kind": "CLERK_ORGANIZATION",
        "id": staging_organization_id or "org_…",
        "connection": "staging",
    }
    return [
        ExampleOperation(
            name="List invitations across targets",
            query=LIST,
            variables={
                "targets": [directory, {"kind": "CLERK_APPLICATION"}, organization],
                "status": ["PENDING"],
            },
        ),
        ExampleOperation(
            name="List across two Clerk instances",
            query=LIST,
            variables={
                "targets": [
                    {**organization, "connection": "default"},
                    staging_organization,
                    {"kind": "CLERK_APPLICATION", "connection": "staging"},
                ],
                "status": ["PENDING"],
            },
        ),
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
        ExampleOperation(
            name="Invite several at once",
            query=CREATE_MANY,
            variables={
                "input": {
                    "invitations": [
                        {
                            "target": organization,
                            "email": "team.a@example.com",
                            "roles": ["org:member"],
                        },
                        {
                            "target": organization,
                            "email": "team.b@example.com",
                            "roles": ["org:admin"],
                        },
                        {"target": directory, "email": "team.c@example.com"},
                    ]
                }
            },
        ),
        ExampleOperation(
            name="Get an invitation",
            query=GET,
            variables={"id": revocable_id or "<an invitation id>"},
        ),
        ExampleOperation(name="Connections", query=CONNECTIONS),
    ]


DEFAULT_EXAMPLES = examples()
