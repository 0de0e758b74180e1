"""Parsing and validation of Clerk invitation request bodies and list queries.

Checks run in the order Clerk's server runs them (clerk-notes.md §2.1, §3.1): the body must be JSON
(else 400 `request_body_invalid`); each value must have its JSON type, since the server decodes
into a typed struct (a mismatch is a decode error, so also 400 — an inference); then the form rules,
whose failures are 422 and reported together, as Clerk combines form errors (§5.1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from invitation_gateway.emulators._common import is_valid_email
from invitation_gateway.emulators.clerk._errors import (
    MAX_BULK,
    ClerkError,
    bulk_size_exceeded,
    form_param_format_invalid,
    form_param_missing,
    form_param_type_invalid,
    form_param_unknown,
    form_param_value_invalid,
    request_body_invalid,
    unprocessable,
)

STATUSES = ("pending", "accepted", "revoked", "expired")
TEMPLATE_SLUGS = ("invitation", "waitlist_invitation")
_TYPES: dict[str, type] = {"string": str, "boolean": bool, "integer": int, "object": dict}
# `POST /v1/invitations` is `additionalProperties: false` (clerk-notes.md §2.1); the organization
# invitation body is not (§3.1), so unknown keys are only rejected for application invitations.
_INVITATION_FIELDS = {
    "email_address": "string",
    "public_metadata": "object",
    "redirect_url": "string",
    "notify": "boolean",
    "ignore_existing": "boolean",
    "expires_in_days": "integer",
    "template_slug": "string",
}
_ORGANIZATION_INVITATION_FIELDS = {
    "email_address": "string",
    "role": "string",
    "inviter_user_id": "string",
    "public_metadata": "object",
    "private_metadata": "object",
    "redirect_url": "string",
    "expires_in_days": "integer",
    "notify": "boolean",
}
# Go's strconv.ParseBool, which reads `paginated`
_BOOLEANS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}


@dataclass(frozen=True)
class InvitationParams:
    email_address: str
    public_metadata: dict[str, Any]
    redirect_url: str | None
    notify: bool
    ignore_existing: bool
    expires_in_days: int | None
    template_slug: str


@dataclass(frozen=True)
class OrganizationInvitationParams:
    email_address: str
    role: str
    inviter_user_id: str | None
    public_metadata: dict[str, Any]
    private_metadata: dict[str, Any]
    redirect_url: str | None
    expires_in_days: int | None
    notify: bool


def object_body(body: bytes) -> dict[str, Any]:
    """An empty body is `{}` (its missing params are reported next); anything else must be an object."""
    if not body.strip():
        return {}
    data = _load(body)
    if not isinstance(data, dict):
        raise request_body_invalid("Expected a JSON object.")
    return data


def array_body(body: bytes) -> list[dict[str, Any]]:
    """A bulk body: a JSON array of 1..10 objects (clerk-notes.md §2.2, §3.2)."""
    data = _load(body) if body.strip() else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise request_body_invalid("Expected a JSON array of objects.")
    if not data:
        # NOT FOUND (clerk-notes.md §2.2): the answer to an empty array (`minItems: 1`).
        raise request_body_invalid("Expected at least one item.")
    if len(data) > MAX_BULK:
        raise bulk_size_exceeded()
    return data


def invitation_params(item: Mapping[str, Any]) -> InvitationParams:
    unknown = [key for key in item if key not in _INVITATION_FIELDS]
    if unknown:
        raise unprocessable([form_param_unknown(key) for key in unknown])
    values = _typed(item, _INVITATION_FIELDS)
    errors = [*_common_errors(values)]
    template = values["template_slug"]
    if template is not None and template not in TEMPLATE_SLUGS:
        allowed = ", ".join(TEMPLATE_SLUGS)
        errors.append(form_param_value_invalid("template_slug", template, allowed))
    if errors:
        raise unprocessable(errors)
    return InvitationParams(
        email_address=values["email_address"],
        public_metadata=values["public_metadata"] or {},
        redirect_url=values["redirect_url"] or None,
        notify=values["notify"] is not False,
        ignore_existing=values["ignore_existing"] is True,
        expires_in_days=values["expires_in_days"],
        template_slug=template or "invitation",
    )


def organization_invitation_params(item: Mapping[str, Any]) -> OrganizationInvitationParams:
    values = _typed(item, _ORGANIZATION_INVITATION_FIELDS)
    errors = [*_common_errors(values)]
    if not values["role"]:
        errors.append(form_param_missing("role"))
    if errors:
        raise unprocessable(errors)
    return OrganizationInvitationParams(
        email_address=values["email_address"],
        role=values["role"],
        inviter_user_id=values["inviter_user_id"] or None,  # "" names nobody
        public_metadata=values["public_metadata"] or {},
        private_metadata=values["private_metadata"] or {},
        redirect_url=values["redirect_url"] or None,
        expires_in_days=values["expires_in_days"],
        notify=values["notify"] is not False,
    )


def revoke_params(body: bytes) -> str | None:
    """The optional organization revoke body `{requesting_user_id}` (clerk-notes.md §3.6)."""
    values = _typed(object_body(body), {"requesting_user_id": "string"})
    requesting_user_id: str | None = values["requesting_user_id"] or None
    return requesting_user_id


# --- list queries (422 form_param_value_invalid for any bad value) --------------------------------


def query_value(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def query_statuses(query: Mapping[str, list[str]]) -> set[str] | None:
    """`status` is repeatable (clerk-notes.md §2.3, §3.3); None when absent."""
    values = query.get("status")
    if not values:
        return None
    for value in values:
        if value not in STATUSES:
            raise unprocessable([form_param_value_invalid("status", value, ", ".join(STATUSES))])
    return set(values)


def query_order_by(query: Mapping[str, list[str]], fields: Sequence[str]) -> tuple[str, bool]:
    """`[+|-]field`, `+` implied, default `-created_at`; returns (field, descending)."""
    value = query_value(query, "order_by") or "-created_at"
    descending = value.startswith("-")
    field = value[1:] if value[:1] in "+-" else value
    if field not in fields:
        allowed = ", ".join(f"{sign}{name}" for name in fields for sign in ("+", "-"))
        raise unprocessable([form_param_value_invalid("order_by", value, allowed)])
    return field, descending


def query_int(
    query: Mapping[str, list[str]], name: str, default: int, minimum: int, maximum: int | None
) -> int:
    value = query_value(query, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum or (maximum is not None and number > maximum):
        allowed = f"integers from {minimum}" + (f" to {maximum}" if maximum is not None else "")
        raise unprocessable([form_param_value_invalid(name, value, allowed)])
    return number


def query_bool(query: Mapping[str, list[str]], name: str) -> bool:
    value = query_value(query, name)
    if value is None:
        return False
    if value.lower() not in _BOOLEANS:
        raise unprocessable([form_param_value_invalid(name, value, "true, false")])
    return _BOOLEANS[value.lower()]


# --- helpers --------------------------------------------------------------------------------------


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise request_body_invalid("It is not valid JSON.") from None


def _typed(item: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """`{name: value or None}` for every field; a value of the wrong JSON type is a 400."""
    values: dict[str, Any] = {}
    for name, kind in fields.items():
        value = item.get(name)
        if value is not None and (
            not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool))
        ):
            raise request_body_invalid(f"{name} must be a {kind}.")
        values[name] = value
    return values


def _common_errors(values: Mapping[str, Any]) -> list[ClerkError]:
    """Form rules shared by both invitation kinds: email, expires_in_days, redirect_url."""
    errors: list[ClerkError] = []
    email = values["email_address"]
    if not email:
        errors.append(form_param_missing("email_address"))
    elif not is_valid_email(email):
        errors.append(form_param_format_invalid("email_address"))
    days = values["expires_in_days"]
    if days is not None and not 1 <= days <= 365:
        errors.append(form_param_value_invalid("expires_in_days", days, "integers from 1 to 365"))
    redirect_url = values["redirect_url"]
    if redirect_url and not _is_absolute_http_url(redirect_url):
        # clerk-notes.md §2.1: "`redirect_url` must be a `valid url`"; the same rule is assumed
        # for organization invitations, where the notes are silent.
        errors.append(form_param_type_invalid("redirect_url", "valid url"))
    return errors


def _is_absolute_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
