"""Configuration from the environment, with DESIGN.md's variable names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from invitation_gateway.serving import load_settings
from invitation_gateway.settings import ConfigurationError, Settings


def test_nested_variables_configure_both_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """GATEWAY_CLERK__* and GATEWAY_CONDUCTORONE__* fill the default connections."""
    monkeypatch.setenv("GATEWAY_CLERK__SECRET_KEY", "sk_test_abc")
    monkeypatch.setenv("GATEWAY_CONDUCTORONE__BASE_URL", "https://acme.conductor.one/")
    monkeypatch.setenv("GATEWAY_CONDUCTORONE__TOKEN", "tok")
    monkeypatch.setenv("GATEWAY_CONDUCTORONE__DEFAULT_DIRECTORY", "dir1")
    settings = Settings()
    assert settings.clerk.api_url == "https://api.clerk.com/v1"
    assert settings.conductorone.base_url == "https://acme.conductor.one"
    assert settings.conductorone.default_directory == "dir1"
    assert settings.configured_upstreams == ["conductorone", "clerk"]


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets print masked."""
    monkeypatch.setenv("GATEWAY_CLERK__SECRET_KEY", "sk_test_verysecret")
    assert "verysecret" not in repr(Settings())


def test_a_malformed_clerk_key_is_refused_on_loading_by_variable_not_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Settings hold any key (plain data); loading them has Clerk judge it: one line naming the
    variable and the shape it must have, never the value."""
    monkeypatch.setenv("GATEWAY_CLERK__SECRET_KEY", "pk_live_verysecret")
    assert Settings().clerk.configured
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("GATEWAY_CLERK__SECRET_KEY: must be a Clerk secret key"), message
    assert "sk_test_" in message
    assert "verysecret" not in message


def test_token_without_base_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ConductorOne token with no tenant URL names the missing variable."""
    monkeypatch.setenv("GATEWAY_CONDUCTORONE__TOKEN", "tok")
    with pytest.raises(ValidationError, match="GATEWAY_CONDUCTORONE__BASE_URL"):
        Settings()


def test_nothing_configured_means_no_upstreams(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no credentials, no provider is offered."""
    for name in ("GATEWAY_CLERK__SECRET_KEY", "GATEWAY_CONDUCTORONE__TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().configured_upstreams == []


def test_validation_errors_never_carry_the_rejected_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even str() of the settings error (what a traceback would show) omits the input."""
    monkeypatch.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", "secret-token:verysecret")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "GATEWAY_CONDUCTORONE__CLIENT_ID" in str(caught.value)
    assert "verysecret" not in str(caught.value)


def test_the_idempotency_lease_must_outlast_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lease shorter than an upstream call's budget is refused at startup, by name."""
    monkeypatch.setenv("GATEWAY_CLERK__TOTAL_TIMEOUT", "90")
    with pytest.raises(ValidationError, match="GATEWAY_IDEMPOTENCY__LEASE_SECONDS"):
        Settings()
