"""Input rules for new invitations, checked before any upstream is called.

Every problem is collected (not just the first) so a form can show them all at once. The rules
encode what each target kind accepts: a provider-specific field sent to the wrong provider is an
error on that field, never silently dropped (DESIGN.md, error model). Field paths name
`NewInvitation`'s own attributes (`("public_metadata",)`); the GraphQL layer spells them its way.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from .errors import FieldPath, InvalidInvitationInput, Problem
from .invitations import NewInvitation, Provider, TargetKind

MAX_EMAIL = 254  # RFC 5321 path limit
MAX_DISPLAY_NAME = 256
MAX_ROLE = 128
MAX_ROLES = 50
MAX_PURPOSE = 1_000
MAX_URL = 2_048
MAX_IDEMPOTENCY_KEY = 255
MAX_METADATA_BYTES = 8_192  # Clerk caps metadata at 8 KB
MAX_ID = 128
CLERK_EXPIRES_IN_DAYS = range(1, 366)  # clerk-notes.md §2.1: integer 1..365

# Upstream ids are base62 KSUIDs (ConductorOne) or `org_`/`inv_`-prefixed base62 (Clerk). Anything
# else cannot exist upstream; refusing it early also keeps `/`, `.` and empty segments out of paths
# (conductorone-notes.md §6.1: such paths are redirected, not rejected).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

_C1_ONLY = "only ConductorOne directory invitations accept it"
_CLERK_ONLY = "only Clerk invitations accept it"


def valid_upstream_id(value: str) -> bool:
    """Whether `value` has the shape of an id some upstream could have issued."""
    return len(value) <= MAX_ID and _ID.fullmatch(value) is not None


def validate_new_invitation(new: NewInvitation) -> NewInvitation:
    """Return `new` normalised (email, display name default) or raise with every problem found."""
    problems: list[Problem] = []
    kind = new.target.kind

    email = _check_email(new.email, problems)
    _check_target(new, problems)

    display_name = new.display_name
    if display_name is not None:
        display_name = display_name.strip()
        if not display_name:
            problems.append(Problem(("display_name",), "must not be blank when given"))
        elif len(display_name) > MAX_DISPLAY_NAME:
            problems.append(_too_long(("display_name",), MAX_DISPLAY_NAME))
        elif kind.provider is Provider.CLERK:
            problems.append(
                Problem(
                    ("display_name",),
                    "Clerk invitations have no display name; put it in publicMetadata instead",
                )
            )

    _check_roles(new, problems)

    if new.purpose is not None:
        if kind is not TargetKind.CONDUCTORONE_DIRECTORY:
            problems.append(Problem(("purpose",), f"not supported here: {_C1_ONLY}"))
        elif len(new.purpose) > MAX_PURPOSE:
            problems.append(_too_long(("purpose",), MAX_PURPOSE))

    _check_clerk_only(new, problems)

    if new.idempotency_key is not None and not (
        0 < len(new.idempotency_key) <= MAX_IDEMPOTENCY_KEY and new.idempotency_key.isprintable()
    ):
        problems.append(
            Problem(
                ("idempotency_key",),
                f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
            )
        )

    if problems:
        raise InvalidInvitationInput(problems)
    if kind is TargetKind.CONDUCTORONE_DIRECTORY and display_name is None:
        # ConductorOne requires displayName (conductorone-notes.md §2.1); DESIGN.md asks for a
        # sensible default rather than a failure: the email's local part.
        display_name = email.split("@", 1)[0]
    return replace(new, email=email, display_name=display_name)


def _check_email(email: str, problems: list[Problem]) -> str:
    email = email.strip()
    if not email:
        problems.append(Problem(("email",), "is required"))
        return email
    if len(email) > MAX_EMAIL:
        problems.append(_too_long(("email",), MAX_EMAIL))
        return email
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        problems.append(Problem(("email",), f"is not a valid email address: {exc}"))
        return email
    return checked.normalized


def _check_target(new: NewInvitation, problems: list[Problem]) -> None:
    target = new.target
    if target.kind.needs_target_id:
        if target.id is None:
            problems.append(
                Problem(("target", "id"), f"is required for {target.kind.value} targets")
            )
        elif not valid_upstream_id(target.id):
            problems.append(
                Problem(("target", "id"), "is not a valid directory or organization id")
            )
    elif target.id is not None:
        problems.append(
            Problem(("target", "id"), "must be omitted: a Clerk application target has no id")
        )


def _check_roles(new: NewInvitation, problems: list[Problem]) -> None:
    kind, roles = new.target.kind, new.roles
    if kind is TargetKind.CLERK_APPLICATION:
        if roles:
            problems.append(Problem(("roles",), "Clerk application invitations take no roles"))
        return
    if kind is TargetKind.CLERK_ORGANIZATION and len(roles) != 1:
        problems.append(
            Problem(
                ("roles",),
                "Clerk organization invitations need exactly one role, e.g. org:member",
            )
        )
        return
    if len(roles) > MAX_ROLES:
        problems.append(Problem(("roles",), f"at most {MAX_ROLES} roles"))
        return
    for index, role in enumerate(roles):
        if not role.strip():
            problems.append(Problem(("roles", str(index)), "must not be blank"))
        elif len(role) > MAX_ROLE:
            problems.append(_too_long(("roles", str(index)), MAX_ROLE))


def _check_clerk_only(new: NewInvitation, problems: list[Problem]) -> None:
    is_clerk = new.target.kind.provider is Provider.CLERK
    given: dict[str, object | None] = {
        "redirect_url": new.redirect_url,
        "expires_in_days": new.expires_in_days,
        "notify": new.notify,
        "public_metadata": new.public_metadata,
    }
    if not is_clerk:
        problems.extend(
            Problem((name,), f"not supported here: {_CLERK_ONLY}")
            for name, value in given.items()
            if value is not None
        )
        return
    if new.redirect_url is not None:
        if len(new.redirect_url) > MAX_URL:
            problems.append(_too_long(("redirect_url",), MAX_URL))
        elif not _is_web_url(new.redirect_url):
            problems.append(Problem(("redirect_url",), "must be an absolute http(s) URL"))
    if new.expires_in_days is not None and new.expires_in_days not in CLERK_EXPIRES_IN_DAYS:
        problems.append(Problem(("expires_in_days",), "must be between 1 and 365"))
    if new.public_metadata is not None:
        if not isinstance(new.public_metadata, dict):
            problems.append(Problem(("public_metadata",), "must be a JSON object"))
        else:
            try:
                # allow_nan=False: NaN and Infinity are not JSON, and no upstream accepts them.
                size = len(json.dumps(new.public_metadata, allow_nan=False).encode())
            except ValueError:
                problems.append(Problem(("public_metadata",), "must not hold NaN or Infinity"))
            else:
                if size > MAX_METADATA_BYTES:
                    problems.append(
                        Problem(
                            ("public_metadata",),
                            f"must be at most {MAX_METADATA_BYTES} bytes as JSON",
                        )
                    )


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _too_long(field: FieldPath, limit: int) -> Problem:
    return Problem(field, f"must be at most {limit} characters")
