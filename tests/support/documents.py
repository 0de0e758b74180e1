"""GraphQL documents the tests send, as a real client would: constants with variables."""

INVITATION = """
  id provider providerInvitationId
  target { kind id connection }
  email displayName status roles purpose url invitedBy
  createdAt updatedAt expiresAt acceptedAt
"""

USER_ERRORS = """
  __typename code message field
  ... on ConflictError { existing { id status } }
  ... on NotRevocableError { invitation { id status } }
"""

CREATE = f"""
mutation Create($input: CreateInvitationInput!) {{
  createInvitation(input: $input) {{
    invitation {{ {INVITATION} }}
    userErrors {{ {USER_ERRORS} }}
  }}
}}
"""

REVOKE = f"""
mutation Revoke($input: RevokeInvitationInput!) {{
  revokeInvitation(input: $input) {{
    invitation {{ {INVITATION} }}
    userErrors {{ {USER_ERRORS} }}
  }}
}}
"""

CONNECTIONS = """
query Connections { connections { name provider targetKinds defaultTargetId } }
"""
