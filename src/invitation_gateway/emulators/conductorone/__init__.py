"""The ConductorOne emulator: local-directory invitations, configs and the OAuth token endpoint.

`ConductorOneEmulator` (`_emulator.py`) is the whole public surface, with the invitation status
constants tests seed with; the routes, wire format, pages and token endpoint are private modules.
"""

from ._emulator import ConductorOneEmulator
from ._invitations import ACCEPTED, EXPIRED, PENDING, REVOKED, SANDBOX_USER_ID
from ._token import TOKEN_PATH

__all__ = [
    "ACCEPTED",
    "EXPIRED",
    "PENDING",
    "REVOKED",
    "SANDBOX_USER_ID",
    "TOKEN_PATH",
    "ConductorOneEmulator",
]
