"""CI's year-ahead comparison: each run writes every test's outcome, and any difference fails.

`tests/support/outcomes.py` (the `--outcomes` plugin) records outcomes as pytest's summary
counts them; `.ci/compare-outcomes` compares two runs' files, as `.ci/run` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPARE = ROOT / ".ci" / "compare-outcomes"

SAMPLE_TESTS = """
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

def test_passes():
    pass

def test_fails():
    assert False

def test_skips():
    pytest.skip("not today")

@pytest.mark.xfail(reason="known")
def test_xfails():
    assert False

@pytest.mark.xfail(reason="known", strict=False)
def test_xpasses():
    pass

def test_setup_errors(broken_setup):
    pass

def test_teardown_errors(broken_teardown):
    pass
"""


def compare(tmp_path: Path, today: object, ahead: object) -> subprocess.CompletedProcess[str]:
    files = []
    for name, outcomes in (("today", today), ("ahead", ahead)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(outcomes), encoding="utf-8")
        files.append(str(path))
    return subprocess.run(
        [sys.executable, str(COMPARE), *files], capture_output=True, text=True, check=False
    )


def test_the_plugin_records_every_outcome_as_pytest_counts_it(tmp_path: Path) -> None:
    """Passed, failed, skipped, xfailed, xpassed, a setup error and a teardown error, by node id."""
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    recorded = tmp_path / "out" / "outcomes.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.outcomes",
            f"--outcomes={recorded}",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_sample.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # test_fails and the errors
    assert json.loads(recorded.read_text(encoding="utf-8")) == {
        "test_sample.py::test_fails": "failed",
        "test_sample.py::test_passes": "passed",
        "test_sample.py::test_setup_errors": "error",
        "test_sample.py::test_skips": "skipped",
        "test_sample.py::test_teardown_errors": "passed+error",
        "test_sample.py::test_xfails": "xfailed",
        "test_sample.py::test_xpasses": "xpassed",
    }


def test_the_same_outcomes_compare_equal(tmp_path: Path) -> None:
    """Both runs alike, skips and xfails included: exit 0."""
    outcomes = {"t.py::a": "passed", "t.py::b": "skipped", "t.py::c": "xfailed"}
    run = compare(tmp_path, outcomes, outcomes)
    assert run.returncode == 0, run.stderr
    assert "all 3 tests have the same outcome in today and ahead" in run.stdout


def test_a_test_skipped_xfailed_or_missing_only_ahead_fails_the_comparison(tmp_path: Path) -> None:
    """Each test whose outcome differs, or that ran in one run only, is named with both outcomes."""
    today = {
        "t.py::same": "passed",
        "t.py::skip": "passed",
        "t.py::xfail": "passed",
        "t.py::gone": "passed",
    }
    ahead = {
        "t.py::same": "passed",
        "t.py::skip": "skipped",
        "t.py::xfail": "xfailed",
        "t.py::new": "passed",
    }
    run = compare(tmp_path, today, ahead)
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    assert lines[0].startswith(
        "compare-outcomes: 4 test(s) have a different outcome in today and ahead"
    )
    assert [line.split() for line in lines[1:]] == [
        ["t.py::gone", "today:", "passed", "ahead:", "(not", "run)"],
        ["t.py::new", "today:", "(not", "run)", "ahead:", "passed"],
        ["t.py::skip", "today:", "passed", "ahead:", "skipped"],
        ["t.py::xfail", "today:", "passed", "ahead:", "xfailed"],
    ]


def test_a_missing_or_empty_outcome_file_is_an_error_not_a_match(tmp_path: Path) -> None:
    """A run that recorded nothing cannot pass the comparison."""
    assert compare(tmp_path, {}, {}).returncode == 2
    assert compare(tmp_path, ["not", "a", "map"], {"t.py::a": "passed"}).returncode == 2
    missing = subprocess.run(
        [sys.executable, str(COMPARE), str(tmp_path / "nowhere.json"), str(tmp_path / "x.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
