"""Service callers' API keys: `igw_` keys, kept only as SHA-256 hashes in a TOML file.

The file (`GATEWAY_AUTH__API_KEYS_FILE`, DESIGN.md "Fixed formats") holds one entry per key:
```toml
[[keys]]
name = "bff"            # the caller is then "api_key:bff"
sha256 = "<hex SHA-256 of the whole key>"
```
`new_api_key` mints a key and `entry_for` writes the entry to paste (the CLI's `api-key new`).
`ApiKeys.identify` hashes the presented key once and compares that hash with every entry in
constant time, without stopping at a match, so the time it takes says nothing about which entry
(or how much of a hash) matched. The key's shape is public, so a misshapen key is refused at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path

from ..toml_files import read_toml
from .identity import Caller

KEY_PREFIX = "igw_"
NAME_PATTERN = re.compile(r"\A[a-z][a-z0-9_-]{0,63}\Z")
"""A key's name: what `api_key:<name>` says in logs and in the policy file."""

_KEY_SHAPE = re.compile(r"\Aigw_[A-Za-z0-9_-]{32,256}\Z")
_HASH_SHAPE = re.compile(r"\A[0-9a-fA-F]{64}\Z")
_ENTRY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*keys[ \t]*\]\]", re.MULTILINE)
_ENTRY_KEYS = ("name", "sha256")


class ApiKeysFileError(ValueError):
    """The API keys file cannot be used; `str()` lists every problem, one a line, by path and
    line, never with a key or a hash."""


def new_api_key() -> str:
    """A fresh key: `igw_` and 43 URL-safe random characters (32 bytes)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_api_key(value: str) -> bool:
    """Whether `value` has an API key's (public) shape: `igw_` and 32 to 256 URL-safe characters."""
    return _KEY_SHAPE.match(value) is not None


def key_hash(key: str) -> str:
    """The hex SHA-256 of the whole key, as the keys file stores it."""
    return hashlib.sha256(key.encode()).hexdigest()


def entry_for(name: str, key: str) -> str:
    """The keys-file entry to paste for `key` under `name`; ValueError for a bad name or key."""
    if not NAME_PATTERN.match(name):
        raise ValueError("an API key name must match [a-z][a-z0-9_-]{0,63}")
    if not is_api_key(key):
        raise ValueError("not an API key: expected igw_ and at least 32 URL-safe characters")
    return f'[[keys]]\nname = "{name}"\nsha256 = "{key_hash(key)}"\n'


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    digest: bytes


class ApiKeys:
    """The known API keys, by name; `identify` says whose a presented key is."""

    def __init__(self, hashes: Iterable[tuple[str, str]]) -> None:
        """From (name, hex SHA-256) pairs; ValueError for a bad name or hash, or a duplicate."""
        entries: list[_Entry] = []
        for name, sha256 in hashes:
            if not NAME_PATTERN.match(name) or not _HASH_SHAPE.match(sha256):
                raise ValueError("an API key needs a valid name and a 64-hex-digit sha256")
            entry = _Entry(name, bytes.fromhex(sha256))
            if any(e.name == name or e.digest == entry.digest for e in entries):
                raise ValueError(f"API key {name!r} repeats a name or a hash")
            entries.append(entry)
        self._entries = tuple(entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self._entries)

    def identify(self, key: str) -> Caller | None:
        """The caller `api_key:<name>` whose key this is, or None."""
        if not is_api_key(key):
            return None
        digest = hashlib.sha256(key.encode()).digest()
        found: _Entry | None = None
        for entry in self._entries:  # every entry, even after a match: no early exit
            if compare_digest(digest, entry.digest):
                found = entry
        return None if found is None else Caller("api_key", found.name)

    @classmethod
    def load(cls, path: Path) -> ApiKeys:
        """The keys of the TOML file at `path`; ApiKeysFileError listing every problem found."""
        text, data = read_toml(path, what="the API keys file", error=ApiKeysFileError)
        problems = [
            f"{path}: unknown key `{key}`: write [[keys]] entries only"
            for key in data
            if key != "keys"
        ]
        entries = data.get("keys", [])
        if not isinstance(entries, list) or not entries:
            problems.append(f"{path}: no [[keys]] entries: write one per key (name, sha256)")
            raise ApiKeysFileError("\n".join(problems))
        headers = [text.count("\n", 0, match.start()) + 1 for match in _ENTRY_HEADER.finditer(text)]
        lines = headers if len(headers) == len(entries) else [0] * len(entries)
        hashes: list[tuple[str, str]] = []
        seen: dict[str, str] = {}  # name or hash -> where it was first seen
        for number, (line, table) in enumerate(zip(lines, entries, strict=True), start=1):
            where = f"{path}:{line}: " if line else f"{path}: "
            where += f"[[keys]] entry {number}"
            found = _entry_problems(table)
            if found:
                problems.extend(f"{where}: {problem}" for problem in found)
                continue
            name, sha256 = table["name"], table["sha256"].lower()
            where += f' (name "{name}")'
            for value, what in ((name, "name"), (sha256, "sha256")):
                if value in seen:
                    problems.append(f"{where}: the same {what} as {seen[value]}")
                seen.setdefault(value, f"entry {number}")
            hashes.append((name, sha256))
        if problems:
            raise ApiKeysFileError("\n".join(problems))
        return cls(hashes)


def _entry_problems(table: object) -> list[str]:
    """What is wrong with one [[keys]] entry (never quoting its values)."""
    if not isinstance(table, dict):
        return ["write each entry as a [[keys]] table with `name` and `sha256`"]
    problems = [
        f"unknown key `{key}` (known keys: name, sha256)" for key in table if key not in _ENTRY_KEYS
    ]
    name, sha256 = table.get("name"), table.get("sha256")
    if name is None:
        problems.append("missing `name`")
    elif not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.append("`name` must match [a-z][a-z0-9_-]{0,63}")
    if sha256 is None:
        problems.append("missing `sha256`")
    elif isinstance(sha256, str) and sha256.startswith(KEY_PREFIX):
        problems.append("`sha256` holds a key: store only its hash (api-key new prints it)")
    elif not isinstance(sha256, str) or not _HASH_SHAPE.match(sha256):
        problems.append("`sha256` must be 64 hex digits: the SHA-256 of the whole key")
    return problems
