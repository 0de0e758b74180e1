"""API keys: minting, the keys file, and identifying a presented key in constant time."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from invitation_gateway.callers import api_keys
from invitation_gateway.callers.api_keys import (
    ApiKeys,
    ApiKeysFileError,
    entry_for,
    is_api_key,
    key_hash,
    new_api_key,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "api-keys.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    """The message loading `text` as a keys file fails with."""
    with pytest.raises(ApiKeysFileError) as failure:
        ApiKeys.load(write(tmp_path, text))
    return str(failure.value)


def test_new_key_shape() -> None:
    """A new key is igw_ and 43 URL-safe characters, and never the same twice."""
    key = new_api_key()
    assert key.startswith("igw_")
    assert len(key) == 4 + 43
    assert is_api_key(key)
    assert new_api_key() != key


def test_round_trip(tmp_path: Path) -> None:
    """New key -> pasted entry -> loaded file -> the key identifies its named caller."""
    bff, admin = new_api_key(), new_api_key()
    path = write(tmp_path, entry_for("bff", bff) + "\n" + entry_for("admin-tool", admin))

    keys = ApiKeys.load(path)

    assert keys.names == ("bff", "admin-tool")
    caller = keys.identify(bff)
    assert caller is not None
    assert (caller.kind, caller.id) == ("api_key", "api_key:bff")
    assert dict(caller.claims) == {}
    identified = keys.identify(admin)
    assert identified is not None
    assert identified.id == "api_key:admin-tool"


def test_entry_is_the_documented_toml() -> None:
    """The entry to paste is the [[keys]] table DESIGN.md fixes, with the whole key's SHA-256."""
    key = new_api_key()
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert key_hash(key) == digest
    assert entry_for("bff", key) == f'[[keys]]\nname = "bff"\nsha256 = "{digest}"\n'


@pytest.mark.parametrize("name", ["", "BFF", "1bff", "bff:admin", "b" * 65, 'x"\ny'])
def test_entry_refuses_bad_names(name: str) -> None:
    """Names are lower-case identifiers, so `api_key:<name>` stays unambiguous."""
    with pytest.raises(ValueError, match="name"):
        entry_for(name, new_api_key())


def test_entry_refuses_a_non_key() -> None:
    """Only a real key's hash is worth pasting."""
    with pytest.raises(ValueError, match="not an API key"):
        entry_for("bff", "hunter2")


def test_wrong_and_tampered_keys_are_unknown(tmp_path: Path) -> None:
    """Another key, or the key with one character changed, identifies no one."""
    key = new_api_key()
    keys = ApiKeys.load(write(tmp_path, entry_for("bff", key)))
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert keys.identify(new_api_key()) is None
    assert keys.identify(tampered) is None
    assert keys.identify(key + "x") is None


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "igw_",
        "igw_short",
        "IGW_" + "a" * 43,
        "igw_" + "a" * 42 + "!",
        "igw_" + "a" * 300,
        "sk_live_abc",
    ],
)
def test_misshapen_keys_are_refused_before_hashing(
    presented: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value without the key's public shape is refused without comparing any hash."""
    compared: list[bytes] = []

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return False

    monkeypatch.setattr(api_keys, "compare_digest", counting)
    keys = ApiKeys([("bff", key_hash(new_api_key()))])
    assert keys.identify(presented) is None
    assert compared == []


@pytest.mark.parametrize("position", [0, 3, 7])
def test_identify_compares_every_entry(position: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever entry matches (or none), the presented hash is compared with all of them."""
    keys_list = [new_api_key() for _ in range(8)]
    keys = ApiKeys([(f"svc{n}", key_hash(key)) for n, key in enumerate(keys_list)])
    compared: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(api_keys, "compare_digest", counting)

    caller = keys.identify(keys_list[position])
    assert caller is not None
    assert caller.name == f"svc{position}"
    assert len(compared) == 8
    assert len(set(compared)) == 8
    compared.clear()
    assert keys.identify(new_api_key()) is None
    assert len(compared) == 8


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is named, with the system's reason."""
    path = tmp_path / "absent.toml"
    with pytest.raises(ApiKeysFileError) as failure:
        ApiKeys.load(path)
    assert str(failure.value) == f"{path}: cannot read the API keys file: No such file or directory"


def test_syntax_error_names_path_and_line(tmp_path: Path) -> None:
    """A TOML syntax error is reported at its path, line and column."""
    message = load_error(tmp_path, '[[keys]]\nname = "bff"\nsha256 = 12ab\n')
    assert message.startswith(f"{tmp_path / 'api-keys.toml'}:3:")
    assert "invalid TOML" in message


def test_entry_problems_name_path_line_and_entry(tmp_path: Path) -> None:
    """Every bad entry is reported, each by line and entry, without quoting hashes or keys."""
    key = new_api_key()
    good = key_hash(key)
    text = (
        f'[[keys]]\nname = "bff"\nsha256 = "{good}"\n\n'
        f'[[keys]]\nname = "bff"\nsha256 = "{key_hash(new_api_key())}"\n\n'
        f'[[keys]]\nname = "Bad Name"\nsha256 = "{good[:10]}"\n\n'
        f'[[keys]]\nname = "leaked"\nsha256 = "{key}"\nkey = "{key}"\n\n'
        f'[[keys]]\nname = "copy"\nsha256 = "{good.upper()}"\n'
    )
    path = write(tmp_path, text)
    lines = load_error(tmp_path, text).splitlines()

    assert lines == [
        f'{path}:5: [[keys]] entry 2 (name "bff"): the same name as entry 1',
        f"{path}:9: [[keys]] entry 3: `name` must match [a-z][a-z0-9_-]{{0,63}}",
        f"{path}:9: [[keys]] entry 3: `sha256` must be 64 hex digits: the SHA-256 of the whole key",
        f"{path}:13: [[keys]] entry 4: unknown key `key` (known keys: name, sha256)",
        f"{path}:13: [[keys]] entry 4: `sha256` holds a key: store only its hash (api-key new prints it)",
        f'{path}:18: [[keys]] entry 5 (name "copy"): the same sha256 as entry 1',
    ]
    assert key not in "\n".join(lines)
    assert good not in "\n".join(lines).lower()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no [[keys]] entries"),
        ("keys = 3\n", "no [[keys]] entries"),
        ('keys = ["bff"]\n', "entry 1: write each entry as a [[keys]] table"),
        ('[[keys]]\nname = "bff"\n', "entry 1: missing `sha256`"),
        ('[[keys]]\nsha256 = "' + "0" * 64 + '"\n', "missing `name`"),
        ('[[key]]\nname = "bff"\n', "unknown key `key`: write [[keys]] entries only"),
    ],
)
def test_shape_errors(tmp_path: Path, text: str, expected: str) -> None:
    """A file without [[keys]] tables, or an entry missing a field, is refused."""
    assert expected in load_error(tmp_path, text)


def test_uppercase_hash_is_accepted(tmp_path: Path) -> None:
    """A hash pasted in upper-case hex still matches."""
    key = new_api_key()
    keys = ApiKeys.load(
        write(tmp_path, f'[[keys]]\nname = "bff"\nsha256 = "{key_hash(key).upper()}"\n')
    )
    assert keys.identify(key) is not None


def test_constructor_refuses_duplicates() -> None:
    """Building ApiKeys directly refuses repeated names and hashes too."""
    digest = key_hash(new_api_key())
    with pytest.raises(ValueError, match="repeats"):
        ApiKeys([("a", digest), ("b", digest)])
    with pytest.raises(ValueError, match="repeats"):
        ApiKeys([("a", digest), ("a", key_hash(new_api_key()))])
