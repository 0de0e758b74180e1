"""Reading the gateway's TOML files (connections, policy, API keys): text and data, or one error
naming the file (and, for a syntax error, its line and column), never a value from the file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

_TOML_POSITION = re.compile(r" \(at (?:line (\d+), column (\d+)|end of document)\)$")


def read_toml(
    path: Path, *, what: str, error: type[ValueError], missing: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The file's text (for finding lines later) and its data; `error` for any failure.

    `what` names the file in messages ("the policy file"); `missing`, when given, is the
    message for a file that does not exist (else it is reported as unreadable).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        if missing is not None:
            raise error(f"{path}: {missing}") from None
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise error(f"{path}: cannot read {what}: {reason}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not UTF-8 text") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(syntax_error(path, text, str(exc))) from None


def syntax_error(path: Path, text: str, message: str) -> str:
    """tomllib's message as `<path>:<line>[:<column>]: invalid TOML: <what is wrong>`."""
    position = _TOML_POSITION.search(message)
    if position is None:
        return f"{path}: invalid TOML: {message}"
    if position[1] is None:  # "at end of document": the last line
        last_line = max(text.count("\n") + (not text.endswith("\n")), 1)
        where = f"{path}:{last_line}"
    else:
        where = f"{path}:{position[1]}:{position[2]}"
    return f"{where}: invalid TOML: {message[: position.start()]}"
