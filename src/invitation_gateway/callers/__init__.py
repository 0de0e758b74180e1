"""Callers: authentication (JWTs, API keys) and the authorization policy."""

from .identity import DEV_CALLER, Caller, CallerKind

__all__ = ["DEV_CALLER", "Caller", "CallerKind"]
