"""`serve` refuses to start with nothing to serve, a connections file with no entry included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from invitation_gateway.serving import gateway_app
from invitation_gateway.settings import (
    AuditSettings,
    AuthSettings,
    ConfigurationError,
    ConnectionsSettings,
    IdempotencySettings,
    Settings,
)

EMPTY_FILES = {
    "empty": "",
    "comments only": "# the connections will come here\n",
    "a provider without entries": "[clerk]\n\n[conductorone]\n",
}


def settings_with(file: Path) -> Settings:
    """Nothing in the environment but the file; everything else serve-ready and local."""
    return Settings(
        connections=ConnectionsSettings(file=file),
        auth=AuthSettings(mode="disabled"),
        audit=AuditSettings(sqlite_path=None),
        idempotency=IdempotencySettings(sqlite_path=None),
    )


@pytest.fixture
def no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("text", EMPTY_FILES.values(), ids=EMPTY_FILES.keys())
def test_a_connections_file_without_entries_is_no_upstream(
    no_gateway_env: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    """A set file that names no connection is refused as no upstream, in one line naming it."""
    file = tmp_path / "connections.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        gateway_app(settings_with(file))
    message = str(caught.value)
    assert message.startswith(f"no upstream is configured: {file} (GATEWAY_CONNECTIONS__FILE)")
    assert "[clerk.<name>]" in message
    assert "\n" not in message


def test_a_connections_file_with_an_entry_is_enough_to_serve(
    no_gateway_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One file entry and nothing in the environment: `serve` builds its app."""
    file = tmp_path / "connections.toml"
    file.write_text('[clerk.staging]\nsecret_key_env = "STAGING_KEY"\n', encoding="utf-8")
    no_gateway_env.setenv("STAGING_KEY", "sk_test_staging")
    assert gateway_app(settings_with(file)) is not None


def test_serve_with_an_empty_connections_file_exits_2_with_one_line(tmp_path: Path) -> None:
    """The command as a person runs it: exit 2, one `configuration error` line, no traceback."""
    file = tmp_path / "connections.toml"
    file.write_text("# nothing yet\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    result = subprocess.run(
        # Port 0: were it to start after all, it would take a free port, not a shared one.
        [sys.executable, "-m", "invitation_gateway", "serve", "--host", "127.0.0.1", "--port", "0"],
        env={**env, "GATEWAY_CONNECTIONS__FILE": str(file), "GATEWAY_AUTH__MODE": "disabled"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"invitation-gateway: configuration error: no upstream is configured: {file}"
    ), line
