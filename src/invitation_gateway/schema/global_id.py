"""Opaque global ids for invitations (the Relay `Node.id`).

An id carries everything needed to reach the invitation again (connection, target kind, target
id and the upstream's own id), so `revokeInvitation` and `node` need no other argument. It is
base64url of a small JSON array: opaque to clients, stable across gateway restarts and replicas.
Decoding is strict: anything that is not exactly what `encode` produces is rejected, and each
part is checked with the same rules as caller input, so a forged id cannot smuggle a path
segment or a bogus kind into an upstream call.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from ..domain.errors import InvalidInvitationInput
from ..domain.invitations import InvitationRef, InvitationTarget, TargetKind
from ..domain.validation import valid_upstream_id

_TYPE = "Invitation"
_MAX_LENGTH = 1_024
_CONNECTION = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidGlobalId(InvalidInvitationInput):
    """The id is not one this gateway issued."""


def encode(ref: InvitationRef) -> str:
    target = ref.target
    payload = [_TYPE, target.connection, target.kind.value, target.id, ref.provider_invitation_id]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(global_id: str, *, field: tuple[str, ...] = ("id",)) -> InvitationRef:
    """The reference inside an id, or `InvalidGlobalId` (a user error on `field`)."""
    invalid = InvalidGlobalId.at(field, "is not a valid invitation id")
    if not 0 < len(global_id) <= _MAX_LENGTH or not _BASE64URL.fullmatch(global_id):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not (isinstance(payload, list) and len(payload) == 5 and payload[0] == _TYPE):
        raise invalid
    _, connection, kind_name, target_id, provider_id = payload
    if not (isinstance(connection, str) and _CONNECTION.fullmatch(connection)):
        raise invalid
    try:
        kind = TargetKind(kind_name)
    except ValueError:
        raise invalid from None
    if kind.needs_target_id:
        if not (isinstance(target_id, str) and valid_upstream_id(target_id)):
            raise invalid
    elif target_id is not None:
        raise invalid
    if not (isinstance(provider_id, str) and valid_upstream_id(provider_id)):
        raise invalid
    ref = InvitationRef(InvitationTarget(kind, target_id, connection), provider_id)
    if encode(ref) != global_id:  # one id per invitation: no alternative spellings
        raise invalid
    return ref
