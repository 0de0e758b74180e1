"""`scripts/bench create` end to end, briefly: real stub, proxy and gateway processes, the
Python load generator, one second per run. Pins that the harness measures and checks, never
how fast anything is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.create.__main__ import main


@pytest.mark.e2e
@pytest.mark.usefixtures("real_clock")
def test_create_benchmark_reports_numbers_and_a_flood_that_never_reaches_the_upstream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row has throughput, latency and CPU; the bad-input flood made zero upstream calls."""
    report = tmp_path / "bench.json"
    argv = ["--duration", "1", "--warmup", "0", "--soak", "0", "--load", "python"]
    argv += ["--scenario", "c1-create-1", "--scenario", "bad-input", "--json", str(report)]

    assert main(argv) == 0

    results = json.loads(report.read_text())
    rows = {(m["scenario"], m["server"]): m for m in results["measurements"]}
    assert set(rows) == {
        ("c1-create-1", "stub"),
        ("c1-create-1", "proxy"),
        ("c1-create-1", "gateway"),
        ("c1-create-16", "gateway"),  # the valid rate the flood is compared with
        ("bad-input", "gateway"),
    }
    for row in rows.values():
        assert row["load"]["ok"] > 0
        assert row["load"]["failed"] == 0
        assert row["per_second"] > 0
        assert row["load"]["p99_ms"] >= row["load"]["p50_ms"] > 0
        assert row["cpu_ms"] > 0
    assert rows[("bad-input", "gateway")]["upstream_calls"] == 0
    valid = rows[("c1-create-16", "gateway")]
    assert valid["upstream_calls"] >= valid["load"]["ok"]  # the stub's counter does count
    assert results["problems"] == []
    printed = capsys.readouterr().out
    assert (
        "| scenario | server | conns | req/s | p50 ms | p99 ms | CPU ms/req | stub CPU ms/req"
        in printed
    )
    assert "upstream calls during the flood: 0 (OK)" in printed
