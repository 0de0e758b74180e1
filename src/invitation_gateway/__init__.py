"""invitation-gateway: one GraphQL API for ConductorOne and Clerk invitations."""

__version__ = "0.1.0"
