"""The sandbox's starting data: one C1 directory, one Clerk organization, a few invitations each.

Directory and organization ids are fixed so that the playground's example operations can name them;
invitation ids are minted at seeding time and returned in `SandboxSeed`. Every target gets at least
one pending, one revoked and one accepted invitation, so that each error path is one click away.
`seed_organization_admin` adds an admin of the Clerk organization (`emulate` uses it);
`seed_staging` fills the sandbox's second Clerk instance ("staging") with its own organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from invitation_gateway.emulators.clerk import ClerkEmulator
from invitation_gateway.emulators.conductorone import (
    ACCEPTED,
    REVOKED,
    ConductorOneEmulator,
)

DIRECTORY_ID = "2fQzV1rJ5vJ8KkLqW3yYd0uXbNc"
ORGANIZATION_ID = "org_2sAndb0xAcmeInc7Kq9WmZ3xYtP"
EXISTING_USER_EMAIL = "existing.user@example.com"
ORGANIZATION_ADMIN_ID = "user_2sAndb0xAcmeAdmin0000000001"
ORGANIZATION_ADMIN_EMAIL = "olivia.admin@example.com"
ENGINEERING_ROLE_ID = "2fQzR0leEngineering0000001x"
STAGING_ORGANIZATION_ID = "org_2sAndb0xAcmeStaging4Qm8Zp"  # on the second Clerk instance


@dataclass(frozen=True)
class SandboxSeed:
    """The ids the playground examples use; each invitation id names a pending invitation."""

    directory_id: str
    organization_id: str
    directory_invitation_id: str  # C1, in `directory_id`
    application_invitation_id: str  # Clerk application invitation
    organization_invitation_id: str  # Clerk organization invitation, in `organization_id`

    @classmethod
    def empty(cls) -> SandboxSeed:
        """The seed of an unseeded sandbox: every id is the empty string."""
        return cls("", "", "", "", "")


def seed_staging(clerk: ClerkEmulator) -> str:
    """A second Clerk instance's data: its own organization and a pending invitation or two."""
    yesterday = clerk.now() - timedelta(days=1)
    clerk.add_organization(STAGING_ORGANIZATION_ID, "Acme Staging", slug="acme-staging")
    clerk.add_organization_invitation(
        STAGING_ORGANIZATION_ID, "qa.tester@example.com", "org:member", created_at=yesterday
    )
    clerk.add_invitation("beta.user@example.com", created_at=yesterday)
    return STAGING_ORGANIZATION_ID


def seed(c1: ConductorOneEmulator, clerk: ClerkEmulator) -> SandboxSeed:
    now = c1.now()
    days_ago = [now - timedelta(days=days) for days in range(4)]

    c1.add_directory(DIRECTORY_ID, "Acme Employees", is_default=True)
    c1_pending = c1.add_invitation(
        DIRECTORY_ID,
        "ada.lovelace@example.com",
        "Ada Lovelace",
        roles=(ENGINEERING_ROLE_ID,),
        purpose="New hire, platform engineering",
        created_at=days_ago[1],
    )
    c1.add_invitation(
        DIRECTORY_ID,
        "grace.hopper@example.com",
        "Grace Hopper",
        status=REVOKED,
        created_at=days_ago[2],
    )
    c1.add_invitation(
        DIRECTORY_ID,
        "alan.turing@example.com",
        "Alan Turing",
        status=ACCEPTED,
        created_at=days_ago[3],
    )

    clerk.add_organization(ORGANIZATION_ID, "Acme Inc", slug="acme")
    clerk.add_user(EXISTING_USER_EMAIL)
    app_pending = clerk.add_invitation("margaret.hamilton@example.com", created_at=days_ago[1])
    clerk.add_invitation("katherine.johnson@example.com", status="revoked", created_at=days_ago[2])
    clerk.add_invitation("dorothy.vaughan@example.com", status="accepted", created_at=days_ago[3])
    org_pending = clerk.add_organization_invitation(
        ORGANIZATION_ID, "linus.torvalds@example.com", "org:member", created_at=days_ago[1]
    )
    clerk.add_organization_invitation(
        ORGANIZATION_ID,
        "barbara.liskov@example.com",
        "org:admin",
        status="revoked",
        created_at=days_ago[2],
    )
    clerk.add_organization_invitation(
        ORGANIZATION_ID, "ken.thompson@example.com", status="accepted", created_at=days_ago[3]
    )

    return SandboxSeed(
        directory_id=DIRECTORY_ID,
        organization_id=ORGANIZATION_ID,
        directory_invitation_id=c1_pending["id"],
        application_invitation_id=app_pending["id"],
        organization_invitation_id=org_pending["id"],
    )


def seed_organization_admin(clerk: ClerkEmulator) -> str:
    """Make an admin of the seeded organization (for `inviter_user_id`); returns the user id.

    Only `invitation-gateway emulate` adds it: the sandbox's data stays as the gateway's tests
    know it.
    """
    clerk.add_user(
        ORGANIZATION_ADMIN_EMAIL,
        user_id=ORGANIZATION_ADMIN_ID,
        first_name="Olivia",
        last_name="Admin",
    )
    clerk.add_membership(ORGANIZATION_ID, ORGANIZATION_ADMIN_ID, "org:admin")
    return ORGANIZATION_ADMIN_ID
