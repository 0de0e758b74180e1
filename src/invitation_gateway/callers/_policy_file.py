"""Reading and checking the policy file (`GATEWAY_POLICY__FILE`, DESIGN.md "Fixed formats").

`read_rules` parses the TOML with `tomllib`, checks each `[[allow]]` rule with a pydantic model
(unknown keys forbidden) and returns the checked rules in file order, with their numbers. Every
problem found, in every rule, is reported in one `PolicyFileError`, one line each:

    <path>:<line>: [[allow]] rule <n>: <where in the rule>: <problem>

The line is left out when it cannot be found (rules written as an inline array, say). The policy
holds no secrets, so a rejected value is quoted back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from invitation_gateway.domain.invitations import TargetKind
from invitation_gateway.toml_files import read_toml

Action = Literal["read", "create", "revoke"]
ClaimPath = tuple[str, ...]
Template = tuple[str | ClaimPath, ...]
"""An id as written: literal text, and claim paths where `{dotted.claim.path}` placeholders stood."""

_PATH = re.compile(r"\A[^.\s{}]+(?:\.[^.\s{}]+)*\Z")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# A key's name as the keys file allows it (`api_keys.NAME_PATTERN`): `api_key:BFF` would match no key.
_API_KEY_CALLER = re.compile(r"\Aapi_key:(?:\*|[a-z][a-z0-9_-]{0,63})\Z")
_CONNECTION_NAME = re.compile(r"\A[a-z][a-z0-9_-]{0,31}\Z")  # DESIGN.md "Named connections"
_ALLOW_HEADER = r"^[ \t]*\[\[[ \t]*(?:allow|\"allow\"|'allow')[ \t]*\]\]"


class PolicyFileError(ValueError):
    """The policy file cannot be used; `str()` names the path, the rule and its line."""


def claim_path(text: object) -> ClaimPath:
    """`"o.rol"` -> `("o", "rol")`; ValueError for an empty segment, a space or a brace."""
    if not isinstance(text, str) or not _PATH.match(text):
        raise ValueError(f"`{text}` is not a dotted claim path (like `o.rol` or `org_role`)")
    return tuple(text.split("."))


def template(text: object) -> Template:
    """Split an id into literal text and `{dotted.claim.path}` placeholders."""
    if not isinstance(text, str):
        raise ValueError("an id is a string")
    if not text:
        raise ValueError("an id must not be empty: omit `id` to match any")
    parts: list[str | ClaimPath] = []
    end = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[end : match.start()])
        try:
            parts.append(claim_path(match[1]))
        except ValueError:
            raise ValueError(
                f"bad placeholder `{match[0]}` in `{text}`: write `{{dotted.claim.path}}`"
            ) from None
        end = match.end()
    parts.append(text[end:])
    literal = [part for part in parts if isinstance(part, str)]
    if any("{" in part or "}" in part for part in literal):
        raise ValueError(f"unbalanced brace in `{text}`: placeholders are `{{dotted.claim.path}}`")
    return tuple(part for part in parts if part != "")


def _caller_pattern(text: str) -> str:
    if text in ("jwt", "dev") or _API_KEY_CALLER.match(text):
        return text
    raise ValueError(f"unknown caller `{text}`: use `jwt`, `api_key:<name>`, `api_key:*` or `dev`")


def _connection(text: str) -> str:
    if not _CONNECTION_NAME.match(text):
        raise ValueError(f"`{text}` is not a connection name ([a-z][a-z0-9_-]{{0,31}})")
    return text


def _role(text: str) -> str:
    if not text.strip():
        raise ValueError("a role must not be blank")
    return text


def _claim_value(value: object) -> object:
    # TOML also has dates, arrays and tables; a JWT claim compared by equality is a JSON scalar.
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError("an allowed claim value is a string, a number or a boolean")


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    # `claims = { o.rol = [...] }` (unquoted) is a nested table in TOML: it means `"o.rol"`.
    flat: dict[str, object] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class TargetSpec(BaseModel):
    """One `{ kind, id?, connection? }` of a rule's `targets`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: TargetKind
    id: Annotated[Template, PlainValidator(template)] | None = None
    connection: Annotated[StrictStr, AfterValidator(_connection)] | None = None

    @model_validator(mode="after")
    def _application_has_no_id(self) -> Self:
        if self.id is not None and not self.kind.needs_target_id:
            raise ValueError(f"a {self.kind.value} target has no id: remove `id`")
        return self


class RuleSpec(BaseModel):
    """One `[[allow]]` rule as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    callers: Annotated[
        list[Annotated[StrictStr, AfterValidator(_caller_pattern)]], Field(min_length=1)
    ]
    claims: dict[
        Annotated[ClaimPath, PlainValidator(claim_path)],
        Annotated[list[Annotated[object, PlainValidator(_claim_value)]], Field(min_length=1)],
    ] = Field(default_factory=dict)
    actions: Annotated[list[Action], Field(min_length=1)]
    targets: Annotated[list[TargetSpec], Field(min_length=1)]
    roles: (
        Annotated[list[Annotated[StrictStr, AfterValidator(_role)]], Field(min_length=1)] | None
    ) = None

    @field_validator("claims", mode="before")
    @classmethod
    def _dotted_keys(cls, value: object) -> object:
        return _flatten(value) if isinstance(value, Mapping) else value


def read_rules(path: Path) -> list[tuple[int, RuleSpec]]:
    """Every rule with its 1-based number, in file order; PolicyFileError listing all problems."""
    text, data = read_toml(
        path,
        what="the policy file",
        error=PolicyFileError,
        missing="the policy file does not exist",
    )

    problems = [
        f"{path}{_at(_key_line(text, key, 0, len(text)))}: unknown key `{key}`: "
        "a policy holds only [[allow]] rules"
        for key in data
        if key != "allow"
    ]
    rules = data.get("allow", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        line = _key_line(text, "allow", 0, len(text))
        problems.append(f"{path}{_at(line)}: write each rule as an [[allow]] table")
        raise PolicyFileError("\n".join(problems))

    spans = _rule_spans(text, len(rules))
    checked: list[tuple[int, RuleSpec]] = []
    for number, rule in enumerate(rules, start=1):
        start, end = spans[number - 1] if spans else (0, 0)
        try:
            checked.append((number, RuleSpec.model_validate(rule)))
        except ValidationError as error:
            found = []
            for detail in error.errors(include_url=False):
                line = _key_line(text, str(detail["loc"][0]), start, end) if detail["loc"] else 0
                found.append((line or (_line_of(text, start) if spans else 0), _problem(detail)))
            found.sort(key=lambda problem: problem[0])  # stable: pydantic's order within a line
            problems.extend(
                f"{path}{_at(line)}: [[allow]] rule {number}: {problem}" for line, problem in found
            )
    if problems:
        raise PolicyFileError("\n".join(problems))
    return checked


def _problem(detail: ErrorDetails) -> str:
    """A pydantic error in the file's terms: "`targets` item 2, `kind`: <message>"."""
    loc = detail["loc"]
    names = [f"item {part + 1}" if isinstance(part, int) else f"`{part}`" for part in loc]
    where = ", ".join(name for name in names if name != "`[key]`")
    kind, message = detail["type"], detail["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        known = (
            "kind, id, connection"
            if "targets" in loc
            else "callers, claims, actions, targets, roles"
        )
        message = f"unknown key (known keys: {known})"
    elif kind == "missing":
        return f"{where} is required"
    elif kind == "too_short":
        message = "must not be empty"
        if loc == ("roles",):
            message += ": omit `roles` to let the rule grant none"
    elif kind != "value_error" and isinstance(detail.get("input"), str | int | float | bool):
        message = f"{message} (got {detail['input']!r})"
    return f"{where}: {message}" if where else message


def _at(line: int) -> str:
    return f":{line}" if line else ""


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _rule_spans(text: str, count: int) -> list[tuple[int, int]]:
    """Each `[[allow]]` rule's stretch of text; [] when the headers do not match the rules."""
    starts = [match.start() for match in re.finditer(_ALLOW_HEADER, text, re.MULTILINE)]
    if not starts or len(starts) != count:
        return []
    return list(zip(starts, [*starts[1:], len(text)], strict=True))


def _key_line(text: str, key: str, start: int, end: int) -> int:
    """The line where `key = …`, `[key]` or `[allow.key]` is written in text[start:end]; 0 if none."""
    name = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    table = rf"\[\[?[ \t]*(?:allow[ \t]*\.[ \t]*)?{name}[ \t]*[.\]]"  # [allow], [allow.claims]
    pattern = rf"^[ \t]*(?:{name}[ \t]*[=.]|{table})"
    match = re.compile(pattern, re.MULTILINE).search(text, start, end)
    return _line_of(text, match.start()) if match else 0
