"""A pytest plugin: `--outcomes=PATH` writes each test's outcome to PATH as JSON.

CI runs the suite today and again with the clock a year ahead, both with `--outcomes`, and
`.ci/compare-outcomes` fails when any test's outcome differs between the two: a test that is
skipped or xfailed only in the future is as much a defect as one that fails there.

The file maps each test's node id to its outcome as pytest's summary counts it: `passed`,
`failed`, `skipped`, `xfailed`, `xpassed` or `error`; a test with more than one (it passed and
then its teardown failed) gets them joined in order, `passed+error`. `tests/conftest.py` loads
this plugin; `-p tests.support.outcomes` loads it elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

OPTION = "--outcomes"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        metavar="PATH",
        default=None,
        help="write each test's outcome (node id -> passed, failed, skipped, xfailed, xpassed,"
        " error) to PATH as JSON; CI compares two runs' files",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption(OPTION)
    if path:
        config.pluginmanager.register(OutcomeRecorder(config, Path(path)), "outcome-recorder")


class OutcomeRecorder:
    """Collects every test's outcome from its reports; writes them when the session ends."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self._config = config
        self._path = path
        self._outcomes: dict[str, list[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # pytest's own words for a report, as its summary line counts them; "" for the setup
        # and teardown of a test that passed them.
        status = self._config.hook.pytest_report_teststatus(report=report, config=self._config)
        category = str(status[0])
        if category:
            self._outcomes.setdefault(report.nodeid, []).append(category)

    def pytest_sessionfinish(self) -> None:
        outcomes = {nodeid: "+".join(found) for nodeid, found in sorted(self._outcomes.items())}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(outcomes, indent=1) + "\n", encoding="utf-8")
