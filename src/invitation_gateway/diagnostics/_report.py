"""The results of `check-config`: a `CheckResult` per part, and the `Report` that prints them.

The report's lines are aligned, one per line of detail, and scrubbed of secrets; its exit
status says what `serve` would do: 2 for an unusable configuration, 1 for an unreachable part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ._masking import scrub

CONFIGURATION = "configuration"
_DETAIL_LIMIT = 400


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One part: `ok` or not, and what was found, in one line (several for a bad file)."""

    part: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Report:
    """Every check's result, in a stable order, and the secret values to scrub from output."""

    results: tuple[CheckResult, ...]
    secret_values: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_status(self) -> int:
        """0 all ok; 2 the configuration is unusable (as `serve` exits); 1 something unreachable."""
        if self.ok:
            return 0
        bad_config = any(r.part == CONFIGURATION and not r.ok for r in self.results)
        return 2 if bad_config else 1

    def lines(self) -> list[str]:
        """`ok     <part>  <detail>` or `FAILED <part>  <detail>`, aligned, secrets scrubbed."""
        width = max((len(result.part) for result in self.results), default=0)
        lines = []
        for result in self.results:
            status = "ok" if result.ok else "FAILED"
            for detail in result.detail.splitlines() or [""]:
                lines.append(
                    scrub(f"{status:<6} {result.part:<{width}}  {detail}", self.secret_values)
                )
        return lines

    @property
    def failures(self) -> int:
        return sum(not result.ok for result in self.results)


def configuration_failure(message: str, secret_values: Sequence[str] = ()) -> Report:
    """The report when not even the settings load: one failed `configuration` part."""
    return Report((CheckResult(CONFIGURATION, False, message),), tuple(secret_values))


_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """A driver's message, folded onto one line and cut to a readable length."""
    folded = _WHITESPACE.sub(" ", text).strip()
    return folded if len(folded) <= _DETAIL_LIMIT else folded[: _DETAIL_LIMIT - 1] + "…"
