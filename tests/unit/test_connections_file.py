"""The named-connections file (`GATEWAY_CONNECTIONS__FILE`): parsing, validation, error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from invitation_gateway.connections_file import (
    NAME_PATTERN,
    ConnectionsFileError,
    NamedConnection,
    load_connections,
)
from invitation_gateway.emulators.conductorone import ConductorOneEmulator
from invitation_gateway.settings import (
    ClerkSettings,
    ConductorOneSettings,
    ConfigurationError,
    ConnectionsSettings,
    Settings,
)
from invitation_gateway.upstreams import conductorone_config, configured_connections

CLERK_KEY = "sk_test_staging_verysecret"
C1_TOKEN = "c1-token-verysecret"

FOUR_ENTRIES = """\
# two Clerk instances and two ConductorOne tenants
[clerk.staging]
secret_key_env = "CLERK_STAGING_SECRET_KEY"
read_timeout = 5

[conductorone.emea]
client_id_env = "C1_EMEA_CLIENT_ID"
client_secret_env = "C1_EMEA_CLIENT_SECRET"
default_directory = "dir-emea"
retry_attempts = 5

[clerk.prod]
secret_key_env = "CLERK_PROD_SECRET_KEY"
api_url = "https://clerk.example.test/v1/"
total_timeout = 20.5
breaker_threshold = 9

[conductorone.us]
base_url = "https://acme-us.conductor.one"
token_env = "C1_US_TOKEN"
connect_timeout = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connections.toml"
    path.write_text(text, encoding="utf-8")
    return path


def failure(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConnectionsFileError) as caught:
        load_connections(path, environ or {})
    return str(caught.value)


def assert_reported(message: str, path: Path, line: int, entry: str, *secrets: str) -> None:
    assert message.startswith(f"{path}:{line}: [{entry}]: "), message
    assert "GATEWAY_CLERK__" not in message
    assert "GATEWAY_CONDUCTORONE__" not in message
    for secret in secrets:
        assert secret not in message


def test_clerk_and_conductorone_entries_parse_in_file_order(tmp_path: Path) -> None:
    """Two Clerk and two ConductorOne entries give four connections, with values and timeouts."""
    client_id, client_secret = ConductorOneEmulator(host="acme-emea.conductor.one").create_client(
        "gateway"
    )
    environ = {
        "CLERK_STAGING_SECRET_KEY": CLERK_KEY,
        "CLERK_PROD_SECRET_KEY": "sk_live_prod",
        "C1_EMEA_CLIENT_ID": client_id,
        "C1_EMEA_CLIENT_SECRET": client_secret,
        "C1_US_TOKEN": C1_TOKEN,
    }
    connections = load_connections(write(tmp_path, FOUR_ENTRIES), environ)

    assert [(c.provider, c.name) for c in connections] == [
        ("clerk", "staging"),
        ("conductorone", "emea"),
        ("clerk", "prod"),
        ("conductorone", "us"),
    ]
    staging, emea, prod, us = (c.settings for c in connections)
    assert isinstance(staging, ClerkSettings)
    assert isinstance(prod, ClerkSettings)
    assert isinstance(emea, ConductorOneSettings)
    assert isinstance(us, ConductorOneSettings)
    assert staging.secret_key is not None
    assert staging.secret_key.get_secret_value() == CLERK_KEY
    assert (staging.read_timeout, staging.total_timeout) == (5.0, 15.0)
    assert staging.api_url == "https://api.clerk.com/v1"
    assert prod.api_url == "https://clerk.example.test/v1"
    assert (prod.total_timeout, prod.breaker_threshold) == (20.5, 9)
    assert emea.client_id == client_id
    assert emea.base_url is None  # the root derives it from the client id
    assert (emea.default_directory, emea.retry_attempts, emea.token) == ("dir-emea", 5, None)
    assert us.token is not None
    assert us.token.get_secret_value() == C1_TOKEN
    assert (us.base_url, us.connect_timeout, us.client_id) == (
        "https://acme-us.conductor.one",
        1.0,
        None,
    )


def test_an_empty_file_has_no_connections(tmp_path: Path) -> None:
    """An empty (or comments-only) file is valid and names no connection."""
    assert load_connections(write(tmp_path, ""), {}) == []
    assert load_connections(write(tmp_path, "# nothing yet\n"), {}) == []


def test_a_missing_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    """A file that cannot be read is reported with its path."""
    path = tmp_path / "absent.toml"
    assert str(path) in failure(path)


def test_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    """A table for a provider other than clerk or conductorone is an error at its header."""
    path = write(tmp_path, '[clerk.ok]\nsecret_key_env = "K"\n\n[okta.main]\ntoken_env = "T"\n')
    message = failure(path, {"K": CLERK_KEY})
    assert_reported(message, path, 4, "okta", CLERK_KEY)
    assert "unknown provider" in message


def test_a_bad_connection_name_is_refused(tmp_path: Path) -> None:
    """A name outside [a-z][a-z0-9_-]{0,31} is an error that shows the pattern."""
    path = write(tmp_path, '[clerk.Staging]\nsecret_key_env = "K"\n')
    message = failure(path, {"K": CLERK_KEY})
    assert_reported(message, path, 1, "clerk.Staging", CLERK_KEY)
    assert "[a-z][a-z0-9_-]{0,31}" in message


def test_an_entry_named_default_is_refused(tmp_path: Path) -> None:
    """`default` belongs to the GATEWAY_<PROVIDER>__* variables, so the file cannot define it."""
    path = write(tmp_path, '\n[conductorone.default]\ntoken_env = "T"\n')
    message = failure(path, {"T": C1_TOKEN})
    assert message.startswith(f"{path}:2: [conductorone.default]: ")
    assert "GATEWAY_CONDUCTORONE__*" in message
    assert C1_TOKEN not in message


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    """A key the provider does not know (a typo) is an error that names it."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "K"\nread_timout = 5\n')
    message = failure(path, {"K": CLERK_KEY})
    assert_reported(message, path, 1, "clerk.staging", CLERK_KEY)
    assert "unknown key `read_timout`" in message


@pytest.mark.parametrize(
    ("provider", "key", "value"),
    [
        ("clerk", "secret_key", "sk_live_inline_verysecret"),
        ("conductorone", "token", "inline-token-verysecret"),
        ("conductorone", "client_secret", "secret-token:conductorone.com:v1:verysecret"),
    ],
)
def test_a_secret_written_in_the_file_is_refused(
    tmp_path: Path, provider: str, key: str, value: str
) -> None:
    """A secret written inline is an error that asks for the `_env` form and never echoes it."""
    path = write(tmp_path, f'[{provider}.main]\nbase_url = "https://a.test"\n{key} = "{value}"\n')
    message = failure(path)
    assert_reported(message, path, 1, f"{provider}.main", value, "verysecret")
    assert f"`{key}_env`" in message


def test_a_missing_variable_is_named(tmp_path: Path) -> None:
    """A variable the file names but the environment lacks is an error naming the variable."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "CLERK_STAGING_SECRET_KEY"\n')
    message = failure(path, {"OTHER": CLERK_KEY})
    assert_reported(message, path, 1, "clerk.staging", CLERK_KEY)
    assert "CLERK_STAGING_SECRET_KEY is not set" in message


def test_an_empty_variable_is_named(tmp_path: Path) -> None:
    """A variable that is set but empty is an error naming the variable."""
    path = write(
        tmp_path, '[conductorone.us]\nbase_url = "https://a.test"\ntoken_env = "C1_TOKEN"\n'
    )
    message = failure(path, {"C1_TOKEN": "  "})
    assert_reported(message, path, 1, "conductorone.us")
    assert "C1_TOKEN is empty" in message


def test_a_secret_value_in_an_env_key_is_not_echoed(tmp_path: Path) -> None:
    """A secret pasted where a variable name belongs is refused without repeating it."""
    path = write(tmp_path, f'[clerk.staging]\nsecret_key_env = "{CLERK_KEY}"\n')
    message = failure(path, {CLERK_KEY: CLERK_KEY})
    assert_reported(message, path, 1, "clerk.staging", CLERK_KEY, "verysecret")
    assert "must name an environment variable" in message


def test_a_malformed_clerk_key_names_the_variable_not_the_value(tmp_path: Path) -> None:
    """A variable holding something that is not a Clerk secret key stops start-up, by entry and
    variable, its value hidden; the file itself is well formed (Clerk judges its keys)."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "CLERK_STAGING_SECRET_KEY"\n')
    environ = {"CLERK_STAGING_SECRET_KEY": "pk_live_verysecret"}
    [entry] = load_connections(path, environ)
    settings = Settings(connections=ConnectionsSettings(file=path))
    with pytest.raises(ConfigurationError) as caught:
        configured_connections(settings, environ)
    message = str(caught.value)
    assert_reported(message, path, 1, "clerk.staging", "verysecret")
    assert "CLERK_STAGING_SECRET_KEY (`secret_key_env`)" in message
    assert "sk_test_" in message
    assert entry.name == "staging"


def test_a_budget_longer_than_the_idempotency_lease_names_the_file_and_entry(
    tmp_path: Path,
) -> None:
    """An entry's total_timeout at or over the lease is refused at its file, line and entry, in
    the file's words, with the lease's variable named as it is."""
    path = write(
        tmp_path,
        '[clerk.staging]\nsecret_key_env = "K"\n\n[clerk.prod]\nsecret_key_env = "K"\n'
        "total_timeout = 90\n",
    )
    settings = Settings(connections=ConnectionsSettings(file=path))
    with pytest.raises(ConfigurationError) as caught:
        configured_connections(settings, {"K": CLERK_KEY})
    message = str(caught.value)
    assert_reported(message, path, 4, "clerk.prod", CLERK_KEY)
    assert message.endswith(
        "`total_timeout` (90 s) must be shorter than GATEWAY_IDEMPOTENCY__LEASE_SECONDS (60 s)"
    ), message


def test_a_name_used_twice_is_refused_before_anything_opens(tmp_path: Path) -> None:
    """A connection added beside the file's under a name the file uses: a configuration error
    naming the provider and the name."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "K"\n')
    settings = Settings(connections=ConnectionsSettings(file=path))
    again = NamedConnection("clerk", "staging", ClerkSettings(secret_key=SecretStr(CLERK_KEY)))
    with pytest.raises(ConfigurationError, match="a second clerk connection named 'staging'"):
        configured_connections(settings, {"K": CLERK_KEY}, [again])


def test_a_malformed_client_secret_names_the_variable_not_the_value(tmp_path: Path) -> None:
    """A ConductorOne client secret of the wrong shape stops start-up, named by its variable."""
    client_id, _ = ConductorOneEmulator(host="acme.conductor.one").create_client("gateway")
    path = write(
        tmp_path,
        '[conductorone.emea]\nclient_id_env = "C1_ID"\nclient_secret_env = "C1_SECRET"\n',
    )
    environ = {"C1_ID": client_id, "C1_SECRET": "not-a-c1-verysecret"}
    [entry] = load_connections(path, environ)  # the file is well formed: the vendor judges
    settings = Settings(connections=ConnectionsSettings(file=path))
    with pytest.raises(ConfigurationError) as caught:
        configured_connections(settings, environ)
    message = str(caught.value)
    assert_reported(message, path, 1, "conductorone.emea", "verysecret")
    assert "C1_SECRET (`client_secret_env`) must be a ConductorOne client secret" in message
    assert entry.name == "emea"


def test_a_client_id_derives_the_base_url_at_start_up(tmp_path: Path) -> None:
    """An entry with client credentials and no base_url talks to the client id's tenant host."""
    client_id, secret = ConductorOneEmulator(host="acme.conductor.one").create_client("gateway")
    path = write(
        tmp_path,
        '[conductorone.emea]\nclient_id_env = "C1_ID"\nclient_secret_env = "C1_SECRET"\n',
    )
    environ = {"C1_ID": client_id, "C1_SECRET": secret}
    settings = Settings(connections=ConnectionsSettings(file=path))
    [emea] = configured_connections(settings, environ)
    assert conductorone_config(emea).base_url == "https://acme.conductor.one"


def test_a_token_without_base_url_is_explained_in_file_terms(tmp_path: Path) -> None:
    """The models' cross-field checks speak of the file's keys, not of GATEWAY_* variables."""
    path = write(tmp_path, '[conductorone.us]\ntoken_env = "C1_TOKEN"\n')
    message = failure(path, {"C1_TOKEN": C1_TOKEN})
    assert_reported(message, path, 1, "conductorone.us", C1_TOKEN)
    assert "C1_TOKEN (`token_env`) is set but `base_url` is not" in message


def test_an_entry_without_credentials_is_refused(tmp_path: Path) -> None:
    """A connection with no way to authenticate is an error saying which keys to set."""
    path = write(tmp_path, "[clerk.staging]\nread_timeout = 5\n")
    message = failure(path)
    assert_reported(message, path, 1, "clerk.staging")
    assert "`secret_key_env`" in message


def test_a_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    """Invalid TOML is reported at tomllib's line and column."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "K"\nread_timeout = = 5\n')
    message = failure(path, {"K": CLERK_KEY})
    assert message.startswith(f"{path}:3:16: invalid TOML: "), message
    assert CLERK_KEY not in message


def test_an_out_of_range_timeout_is_refused(tmp_path: Path) -> None:
    """A timeout outside the settings' bounds is an error naming the key."""
    path = write(tmp_path, '[clerk.staging]\nsecret_key_env = "K"\nread_timeout = 0\n')
    message = failure(path, {"K": CLERK_KEY})
    assert_reported(message, path, 1, "clerk.staging", CLERK_KEY)
    assert "`read_timeout`: Input should be greater than 0" in message


@pytest.mark.parametrize(("key", "value"), [("read_timeout", '"5"'), ("retry_attempts", "true")])
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, key: str, value: str) -> None:
    """TOML is typed: a quoted number or a boolean is not a timeout or a count."""
    path = write(tmp_path, f'[clerk.staging]\nsecret_key_env = "K"\n{key} = {value}\n')
    message = failure(path, {"K": CLERK_KEY})
    assert_reported(message, path, 1, "clerk.staging", CLERK_KEY)
    assert f"`{key}`: Input should be a valid" in message


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    """All problems come in one error, one line each, ordered by the entries' lines."""
    path = write(
        tmp_path,
        '[conductorone.b]\ntoken = "t"\n\n[clerk.a]\nsecret_key_env = "MISSING"\n'
        '\n[conductorone.c]\nbase_url = "https://c.test"\ntoken_env = "C1"\n',
    )
    lines = failure(path, {"C1": C1_TOKEN}).splitlines()
    assert len(lines) == 2
    assert_reported(lines[0], path, 1, "conductorone.b")
    assert_reported(lines[1], path, 4, "clerk.a")


def test_quoted_and_spaced_headers_are_located(tmp_path: Path) -> None:
    """The reported line is found for `[ "clerk" . 'staging' ]` and for dotted inline tables."""
    path = write(
        tmp_path,
        '# header\nconductorone.us = { token_env = "C1" }\n\n'
        '[ "clerk" . \'staging\' ]\nsecret_key_env = "K"\nread_timeout = -1\n',
    )
    lines = failure(path, {"K": CLERK_KEY, "C1": C1_TOKEN}).splitlines()
    assert_reported(lines[0], path, 2, "conductorone.us", C1_TOKEN)
    assert_reported(lines[1], path, 4, "clerk.staging", CLERK_KEY)


def test_name_pattern_matches_whole_names_only() -> None:
    """NAME_PATTERN accepts DESIGN.md's names and refuses anything longer or differently shaped."""
    assert NAME_PATTERN.match("staging-eu_2")
    assert NAME_PATTERN.match("a" * 32)
    for bad in ("a" * 33, "Staging", "2nd", "eu.west", "staging\n", ""):
        assert not NAME_PATTERN.match(bad)
