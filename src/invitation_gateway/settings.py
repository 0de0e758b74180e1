"""Configuration from the environment (pydantic-settings), with the names DESIGN.md fixes.

`GATEWAY_<SECTION>__<FIELD>`, e.g. `GATEWAY_CLERK__SECRET_KEY`. Nothing reads the environment at
import time: `Settings()` is built by the CLI (or a test) and handed to `create_app`.
Secrets are `SecretStr`: they print as `**********` and never reach a log or an error message.

Plain data: nothing here knows a vendor. One connection's settings (budgets, credentials) are in
`connection_settings.py`; this module gathers them with the gateway's own sections (GraphQL
limits, callers and policy, rate limits, stores, logs). The composition root (`upstreams.py`)
turns them into each vendor's config, checking what only the vendor can. The names other modules
use are importable from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .configuration_error import ConfigurationError
from .connection_settings import (
    MISSING_UPSTREAM,
    ClerkSettings,
    ConductorOneSettings,
    ConnectionsSettings,
    UpstreamPolicy,
)

__all__ = [
    "MISSING_UPSTREAM",
    "AuditSettings",
    "AuthSettings",
    "ClerkSettings",
    "ConductorOneSettings",
    "ConfigurationError",
    "ConnectionsSettings",
    "CorsSettings",
    "GraphQLSettings",
    "IdempotencySettings",
    "LogSettings",
    "PolicySettings",
    "RateLimitSettings",
    "Settings",
    "StringList",
    "UpstreamPolicy",
]


class GraphQLSettings(BaseModel):
    """Limits that keep hostile queries cheap, and what the schema shows about itself."""

    max_depth: int = Field(default=12, ge=2, le=50)
    max_tokens: int = Field(default=5_000, ge=100)
    max_aliases: int = Field(default=30, ge=1)
    max_root_fields: int = Field(default=20, ge=1, le=200)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # None: the command's default (off for `serve`, on for the sandbox). Field suggestions
    # ("Did you mean …") are off whenever introspection is.
    introspection: bool | None = None
    # Operations registered ahead of time, sent by id (README "Trusted documents").
    trusted_documents_file: Path | None = None
    trusted_documents_only: bool = False

    @model_validator(mode="after")
    def _only_with_a_file(self) -> Self:
        if self.trusted_documents_only and self.trusted_documents_file is None:
            raise ValueError(
                "GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_ONLY needs GATEWAY_GRAPHQL__TRUSTED_DOCUMENTS_FILE"
            )
        return self


def _as_list(value: object) -> object:
    """A JSON list, as pydantic-settings reads them, or a single plain value (DESIGN.md)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [text] if text else []
    return value


StringList = Annotated[list[str], NoDecode, BeforeValidator(_as_list)]


class AuthSettings(BaseModel):
    """Who may call (README "Security"): bearer JWTs, API keys, or nobody checked (disabled)."""

    # None: the command's default (`enforced` for serve, `disabled` for the sandbox).
    mode: Literal["enforced", "disabled"] | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: StringList = []
    authorized_parties: StringList = []
    api_keys_file: Path | None = None

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_shape(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        loopback = parts.hostname in {"127.0.0.1", "::1", "localhost"}
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError(
                "GATEWAY_AUTH__JWKS_URL must be an https URL (plain http only for a loopback host)"
            )
        return value


class AuditSettings(BaseModel):
    """The audit log (README "Audit log"): PostgreSQL when GATEWAY_DATABASE_URL is set."""

    # The embedded default; None keeps no audit log (the sandbox and some tests only).
    sqlite_path: Path | None = Path("var/audit.sqlite3")


class RateLimitSettings(BaseModel):
    """Per-caller budgets, shared through Redis when GATEWAY_REDIS_URL is set."""

    requests_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    # Each createInvitations item counts. Keep it below Clerk's own create limits (README).
    creates_per_minute: int = Field(default=60, ge=1, le=1_000_000)


class PolicySettings(BaseModel):
    """The authorization policy (README "Security"); required by `serve` in enforced mode."""

    file: Path | None = None


class CorsSettings(BaseModel):
    """Browser origins allowed to call the gateway: none unless listed."""

    allow_origins: StringList = []

    @field_validator("allow_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        # Credentials (the Authorization header) are allowed to listed origins; a wildcard
        # would hand every site a frontend's session token.
        if "*" in value:
            raise ValueError("GATEWAY_CORS__ALLOW_ORIGINS cannot be '*': list the origins")
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path:
                raise ValueError(
                    "GATEWAY_CORS__ALLOW_ORIGINS must list origins like https://app.example.com"
                )
        return value


class IdempotencySettings(BaseModel):
    """Where idempotency keys live and for how long (README "Reliability")."""

    ttl_seconds: float = Field(default=86_400.0, ge=1, le=30 * 86_400)
    lease_seconds: float = Field(default=60.0, ge=1, le=3_600)
    # The embedded default store; None keeps keys in memory (the sandbox). Ignored with Redis.
    sqlite_path: Path | None = Path("var/idempotency.sqlite3")


class LogSettings(BaseModel):
    """How the gateway logs (README "Operating"): `serve` writes JSON, the sandbox console lines."""

    format: Literal["json", "console"] | None = None  # None: the command's default
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Everything the gateway can be told; see the README for the variables."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # a rejected value may be a secret: never echo it
    )

    clerk: ClerkSettings = ClerkSettings()
    conductorone: ConductorOneSettings = ConductorOneSettings()
    graphql: GraphQLSettings = GraphQLSettings()
    idempotency: IdempotencySettings = IdempotencySettings()
    connections: ConnectionsSettings = ConnectionsSettings()
    auth: AuthSettings = AuthSettings()
    audit: AuditSettings = AuditSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    policy: PolicySettings = PolicySettings()
    cors: CorsSettings = CorsSettings()
    log: LogSettings = LogSettings()
    # Shared state across replicas (idempotency keys today); GATEWAY_REDIS_URL, e.g.
    # redis://localhost:6379/0. Unset: the embedded SQLite store.
    redis_url: SecretStr | None = None
    # The audit log's PostgreSQL, a plain postgresql://… URL (the gateway picks its driver).
    database_url: SecretStr | None = None

    @model_validator(mode="after")
    def _lease_outlasts_calls(self) -> Self:
        # An idempotency claim must outlive the create it guards, or a duplicate could take the
        # key over while the first create is still running.
        longest = max(self.clerk.total_timeout, self.conductorone.total_timeout)
        if self.idempotency.lease_seconds <= longest:
            raise ValueError(
                "GATEWAY_IDEMPOTENCY__LEASE_SECONDS must be longer than every connection's "
                f"TOTAL_TIMEOUT ({longest:g} s)"
            )
        return self

    @property
    def configured_upstreams(self) -> list[str]:
        """What is set to configure upstreams: the providers' variables, the connections file.

        A set file counts before it is read: whether it has entries, `serve` learns by reading
        it (`upstreams.configured_connections`), and refuses to start when none are found.
        """
        found = []
        if self.conductorone.configured:
            found.append("conductorone")
        if self.clerk.configured:
            found.append("clerk")
        if self.connections.file is not None:
            found.append("the connections file")
        return found
