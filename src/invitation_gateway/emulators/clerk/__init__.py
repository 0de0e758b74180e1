"""The Clerk emulator: application and organization invitations, users and memberships.

`ClerkEmulator` (`_emulator.py`) is the public surface; the routes for each invitation kind,
parameters, error bodies and wire views are private modules.
"""

from ._emulator import ClerkEmulator

__all__ = ["ClerkEmulator"]
