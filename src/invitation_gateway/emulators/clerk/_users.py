"""Clerk users and organization memberships, as far as organization invitations need them.

An inviter (`inviter_user_id`, clerk-notes.md §3.1) or a revoker (`requesting_user_id`, §3.6)
must be a member of the organization whose role has `org:sys_memberships:manage`: someone who is
not a member is 403 `not_a_member_in_organization`, a member without the permission is 403
`missing_organization_permission`. Without such an id the request acts as the instance (the
secret key), and nobody is checked.

A user id Clerk does not know is simply not a member: the server snapshot looks inviters up as
memberships and never reports an unknown user (UNVERIFIED for the current API, §3.1).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from invitation_gateway.emulators.clerk import _errors as errors

MANAGE_MEMBERS = "org:sys_memberships:manage"

DEFAULT_ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = {
    # Clerk's two default roles and their system permissions: an admin has them all, a basic
    # member may only read the member list.
    "org:admin": frozenset(
        {
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_memberships:read",
            MANAGE_MEMBERS,
            "org:sys_domains:read",
            "org:sys_domains:manage",
        }
    ),
    "org:member": frozenset({"org:sys_memberships:read"}),
}


def new_user(
    user_id: str, email: str, first_name: str | None, last_name: str | None
) -> dict[str, Any]:
    """A user record as the emulator keeps it (a few of Clerk's User fields)."""
    return {
        "id": user_id,
        "email_address": email,
        "first_name": first_name,
        "last_name": last_name,
        "image_url": _default_image_url(user_id),
        "has_image": False,
    }


def public_user_data(user: Mapping[str, Any]) -> dict[str, Any]:
    """`OrganizationInvitationPublicUserData` (clerk-bapi.yml): every field is required."""
    return {
        "user_id": user["id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "image_url": user["image_url"],
        "has_image": user["has_image"],
        "identifier": user["email_address"],
    }


def check_can_manage_members(
    organization: Mapping[str, Any],
    user_ids: Iterable[str | None],
    role_permissions: Mapping[str, Iterable[str]],
) -> None:
    """403 unless every given user may manage the organization's members (None: not checked).

    Membership is checked for all of them first, then permissions, as the snapshot does.
    """
    wanted = [user_id for user_id in dict.fromkeys(user_ids) if user_id is not None]
    memberships: Mapping[str, str] = organization["memberships"]
    if any(user_id not in memberships for user_id in wanted):
        raise errors.not_a_member_in_organization()
    for user_id in wanted:
        if MANAGE_MEMBERS not in set(role_permissions.get(memberships[user_id], ())):
            raise errors.missing_organization_permission(MANAGE_MEMBERS)


def _default_image_url(user_id: str) -> str:
    # Clerk serves a generated avatar for users without an image; the URL's shape is ours.
    payload = json.dumps({"type": "default", "rid": user_id}, separators=(",", ":"))
    return "https://img.clerk.com/" + base64.urlsafe_b64encode(payload.encode()).decode().rstrip(
        "="
    )
