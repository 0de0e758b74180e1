"""One upstream connection's settings: budgets, retries, breaker, and each vendor's credentials.

The `GATEWAY_CLERK__*` and `GATEWAY_CONDUCTORONE__*` variables fill these models for the
connection named `default`; each entry of the connections file (`connections_file.py`) is
validated by the same models. Plain data: the shape of a credential is the vendor's to judge,
which the composition root (`upstreams.py`) asks it to do at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator


class UpstreamPolicy(BaseModel):
    """One connection's budgets, retries and circuit breaker (README "Reliability"), in seconds."""

    connect_timeout: float = Field(default=3.0, gt=0, le=60)
    read_timeout: float = Field(default=10.0, gt=0, le=120)
    total_timeout: float = Field(
        default=15.0, gt=0, le=300, description="budget of a whole call, retries included"
    )
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_wait: float = Field(default=2.0, gt=0, le=60, description="backoff cap")
    max_retry_after: float = Field(
        default=5.0, ge=0, le=120, description="longest Retry-After honoured by waiting"
    )
    breaker_threshold: int = Field(default=5, ge=1, le=1000)
    breaker_cooldown: float = Field(default=30.0, gt=0, le=3600)


class ClerkSettings(UpstreamPolicy):
    """The Clerk connection named `default`."""

    secret_key: SecretStr | None = None
    api_url: str = "https://api.clerk.com/v1"

    @field_validator("secret_key")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        # Its shape is Clerk's to check: the composition root does, at start-up (upstreams.py).
        return value if value is not None and value.get_secret_value() else None

    @field_validator("api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        return _web_url(value, "GATEWAY_CLERK__API_URL")

    @property
    def configured(self) -> bool:
        return self.secret_key is not None


class ConductorOneSettings(UpstreamPolicy):
    """The ConductorOne connection named `default`: a bearer token or OAuth client credentials."""

    base_url: str | None = None
    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    default_directory: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url_shape(cls, value: str | None) -> str | None:
        return _web_url(value, "GATEWAY_CONDUCTORONE__BASE_URL") if value else None

    @field_validator("token", "client_secret")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("client_id")
    @classmethod
    def _blank_id_is_unset(cls, value: str | None) -> str | None:
        # Its shape (and the secret's) is the vendor's to check: the composition root does,
        # at start-up, and derives the base URL from it (upstreams.py).
        return value or None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.client_id is not None and self.client_secret is None:
            raise ValueError(
                "GATEWAY_CONDUCTORONE__CLIENT_ID is set but GATEWAY_CONDUCTORONE__CLIENT_SECRET "
                "is not: set both (OAuth client credentials), or neither"
            )
        if self.client_secret is not None and self.client_id is None:
            raise ValueError(
                "GATEWAY_CONDUCTORONE__CLIENT_SECRET is set but GATEWAY_CONDUCTORONE__CLIENT_ID "
                "is not: set both (OAuth client credentials), or neither"
            )
        if self.token is not None and self.client_id is not None:
            raise ValueError(
                "GATEWAY_CONDUCTORONE__TOKEN and GATEWAY_CONDUCTORONE__CLIENT_ID/__CLIENT_SECRET "
                "are both set: choose one way to authenticate to ConductorOne"
            )
        if self.token is not None and self.base_url is None:
            raise ValueError(
                "GATEWAY_CONDUCTORONE__TOKEN is set but GATEWAY_CONDUCTORONE__BASE_URL is not: "
                "set it to your tenant URL, e.g. https://acme.conductor.one"
            )
        return self

    @property
    def configured(self) -> bool:
        # The validator above makes client_id and client_secret come together.
        return self.token is not None or self.client_id is not None


class ConnectionsSettings(BaseModel):
    """More connections than the environment's `default` ones (README "Named connections")."""

    file: Path | None = None  # GATEWAY_CONNECTIONS__FILE, TOML


MISSING_UPSTREAM = (
    "no upstream is configured. Set GATEWAY_CLERK__SECRET_KEY (a Clerk secret key) and/or "
    "GATEWAY_CONDUCTORONE__CLIENT_ID plus GATEWAY_CONDUCTORONE__CLIENT_SECRET (or "
    "GATEWAY_CONDUCTORONE__BASE_URL plus GATEWAY_CONDUCTORONE__TOKEN); "
    "or run `invitation-gateway sandbox` to try the gateway against built-in emulators."
)


def _web_url(value: str, variable: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"{variable} must be an absolute http(s) URL")
    return value.rstrip("/")
