"""Named connections: the TOML file `GATEWAY_CONNECTIONS__FILE` names (DESIGN.md "Fixed formats").

Each table `[<provider>.<name>]` becomes a `ClerkSettings` or `ConductorOneSettings`, validated by
the same models as the `GATEWAY_<PROVIDER>__*` variables (which configure the connection named
`default`). Secrets are never written in the file: `secret_key_env`, `token_env`,
`client_id_env` and `client_secret_env` name the environment variables that hold them.

`load_connections` reports every problem it finds, one `<path>:<line>: [<provider>.<name>]: <problem>`
line each, in file order, in a single `ConnectionsFileError`. No message carries a value read from the
environment or from a secret-looking key of the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import SecretStr, ValidationError

from .configuration_error import ConfigurationError
from .connection_settings import ClerkSettings, ConductorOneSettings, UpstreamPolicy
from .toml_files import read_toml

NAME_PATTERN: re.Pattern[str] = re.compile(r"\A[a-z][a-z0-9_-]{0,31}\Z")
"""A connection name. Anchored, so `match` and `fullmatch` agree."""

# An `_env` key must name a variable, not hold a secret: an upper-case name is never a Clerk key
# (`sk_…`) nor a C1 secret (`secret-token:…`), so refusing anything else keeps those out of errors.
_VARIABLE_NAME = re.compile(r"\A[A-Z_][A-Z0-9_]*\Z")
_POLICY_KEYS = frozenset(UpstreamPolicy.model_fields)
# key in the file -> the settings field holding the value of the variable it names
_SECRET_KEYS: dict[str, dict[str, str]] = {
    "clerk": {"secret_key_env": "secret_key"},
    "conductorone": {
        "token_env": "token",
        "client_id_env": "client_id",
        "client_secret_env": "client_secret",
    },
}
_PLAIN_KEYS: dict[str, frozenset[str]] = {
    "clerk": _POLICY_KEYS | {"api_url"},
    "conductorone": _POLICY_KEYS | {"base_url", "default_directory"},
}
_MODELS: dict[str, type[ClerkSettings] | type[ConductorOneSettings]] = {
    "clerk": ClerkSettings,
    "conductorone": ConductorOneSettings,
}
_MISSING_CREDENTIALS = {
    "clerk": "no credentials: set `secret_key_env`",
    "conductorone": "no credentials: set `token_env`, or `client_id_env` and `client_secret_env`",
}
# The models' messages name GATEWAY_<PROVIDER>__<FIELD> (or `…/__<FIELD>` for a second one);
# other variables (GATEWAY_IDEMPOTENCY__LEASE_SECONDS) are the environment's, and stay as they are.
_ENV_WORDING = re.compile(r"(?:GATEWAY_(?:CLERK|CONDUCTORONE)|(?<![A-Z_]))__([A-Z][A-Z_]*)")


@dataclass(frozen=True)
class NamedConnection:
    """One `[<provider>.<name>]` entry, validated, its secrets read from the environment."""

    provider: Literal["clerk", "conductorone"]
    name: str
    settings: ClerkSettings | ConductorOneSettings
    where: str = ""  # "<path>:<line>: [<provider>.<name>]" for a file entry; "" for the env's
    variables: Mapping[str, str] = field(default_factory=dict)  # field -> variable read

    def explain(self, problem: str) -> str:
        """A problem found later (by the root's checks) in this entry's own terms."""
        if not self.where:
            return problem
        return f"{self.where}: {_pydantic_problem((), problem, self.variables)}"


class ConnectionsFileError(ConfigurationError):
    """The connections file cannot be used; `str()` is the whole message, one problem a line."""


def load_connections(path: Path, environ: Mapping[str, str]) -> list[NamedConnection]:
    """Every entry, in file order.

    Raises ConnectionsFileError listing all the problems found, one a line, in file order: a
    missing or unreadable file, a TOML syntax error (with its line and column), or any entry
    that is malformed, names a missing or empty variable, or fails the settings' validation.
    """
    text, data = read_toml(path, what="the connections file", error=ConnectionsFileError)

    found: list[tuple[int, NamedConnection]] = []
    problems: list[tuple[int, str]] = []
    for provider, entries in data.items():
        line = _line(text, provider)
        where = f"{path}:{line}: " if line else f"{path}: "
        if provider not in _MODELS:
            problems.append(
                (line, f"{where}[{provider}]: unknown provider: use clerk or conductorone")
            )
            continue
        if not isinstance(entries, dict):
            problems.append(
                (line, f"{where}[{provider}]: write one table [{provider}.<name>] per connection")
            )
            continue
        for name, table in entries.items():
            line = _line(text, provider, name)
            where = f"{path}:{line}: " if line else f"{path}: "
            settings, errors, variables = _entry(provider, name, table, environ)
            problems.extend((line, f"{where}[{provider}.{name}]: {error}") for error in errors)
            if settings is not None:
                kind = cast("Literal['clerk', 'conductorone']", provider)  # checked above
                entry = f"{where}[{provider}.{name}]"
                found.append((line, NamedConnection(kind, name, settings, entry, variables)))
    if problems:
        problems.sort(key=lambda problem: problem[0])
        raise ConnectionsFileError("\n".join(message for _, message in problems))
    found.sort(key=lambda entry: entry[0])
    return [connection for _, connection in found]


def _entry(
    provider: str, name: str, table: object, environ: Mapping[str, str]
) -> tuple[ClerkSettings | ConductorOneSettings | None, list[str], dict[str, str]]:
    """The settings of one entry, or the problems that prevent them (never with a value)."""
    if not NAME_PATTERN.match(name):
        return None, ["a connection name must match [a-z][a-z0-9_-]{0,31}"], {}
    if name == "default":
        return (
            None,
            [
                f"the connection named `default` is configured by the GATEWAY_{provider.upper()}__* "
                "variables, not by this file: choose another name"
            ],
            {},
        )
    if not isinstance(table, dict):
        return None, [f"write a table [{provider}.{name}] with the connection's keys"], {}
    secret_keys, problems = _SECRET_KEYS[provider], []
    fields: dict[str, Any] = {}
    variables: dict[str, str] = {}  # settings field -> the variable it was read from
    for key, value in table.items():
        if f"{key}_env" in secret_keys:
            problems.append(
                f"`{key}` must not be written in the file: name the environment variable that "
                f"holds it with `{key}_env`"
            )
        elif key in secret_keys:
            if not isinstance(value, str) or not _VARIABLE_NAME.match(value):
                problems.append(
                    f"`{key}` must name an environment variable (A-Z, 0-9, _), not hold its value"
                )
            elif not environ.get(value, "").strip():
                state = "is not set" if value not in environ else "is empty"
                problems.append(f"`{key}`: the environment variable {value} {state}")
            else:
                fields[secret_keys[key]] = SecretStr(environ[value])
                variables[secret_keys[key]] = value
        elif key in _PLAIN_KEYS[provider]:
            fields[key] = value
        else:
            known = ", ".join(sorted(_PLAIN_KEYS[provider] | secret_keys.keys()))
            problems.append(f"unknown key `{key}` (known keys: {known})")
    if problems:
        return None, problems, {}
    if "client_id" in fields:  # the model wants it as plain text; its shape is not secret
        fields["client_id"] = fields["client_id"].get_secret_value()
    try:
        # Strict: TOML is typed, so "5" is not a timeout and true is not a count.
        settings = _MODELS[provider].model_validate(fields, strict=True)
    except ValidationError as error:
        # errors() without input: a rejected value may be a secret.
        details = error.errors(include_input=False, include_url=False, include_context=False)
        problems = [_pydantic_problem(d["loc"], d["msg"], variables) for d in details]
        return None, problems, {}
    if not settings.configured:
        return None, [_MISSING_CREDENTIALS[provider]], {}
    return settings, [], variables


def _pydantic_problem(loc: tuple[int | str, ...], msg: str, variables: Mapping[str, str]) -> str:
    """A model's message in the file's words: keys and variables instead of GATEWAY_* names."""
    msg = msg.removeprefix("Value error, ")

    def term(match: re.Match[str]) -> str:
        field = match[1].lower()
        if field in variables:
            return f"the variable {variables[field]} (`{field}_env`)"
        is_secret = any(field in keys.values() for keys in _SECRET_KEYS.values())
        return f"`{field}_env`" if is_secret else f"`{field}`"

    rewritten = _ENV_WORDING.sub(term, msg)
    if rewritten != msg or not loc:
        return rewritten
    field = str(loc[0])
    key = f"{field}_env" if field in variables else field
    return f"`{key}`: {msg}"


def _line(text: str, provider: str, name: str | None = None) -> int:
    """The 1-based line that declares `[provider.name]` (or `[provider]`); 0 when not found.

    Tolerates whitespace and quoted keys; finds dotted keys (`clerk.staging = {…}`) and inline
    tables under `[clerk]` (`staging = {…}`) too.
    """

    def key(part: str) -> str:
        quoted = re.escape(part)
        return f"(?:{quoted}|\"{quoted}\"|'{quoted}')"

    def find(pattern: str, start: int = 0) -> re.Match[str] | None:
        return re.compile(rf"^[ \t]*{pattern}", re.MULTILINE).search(text, start)

    table = find(rf"\[\s*{key(provider)}\s*\]") or find(rf"\[\s*{key(provider)}\s*\.")
    if name is None:
        match = table or find(rf"{key(provider)}\s*[.=]")
    else:
        dotted = rf"{key(provider)}\s*\.\s*{key(name)}"
        match = find(rf"\[\s*{dotted}\s*\]") or find(rf"{dotted}\s*=")
        if match is None and table is not None:
            match = find(rf"{key(name)}\s*=", table.end())
    return text.count("\n", 0, match.start()) + 1 if match else 0
