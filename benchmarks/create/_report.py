"""Results and what they say: the Markdown report (table, ratios, checks) and the JSON file."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._load import LoadResult
from ._scenarios import REFERENCE

SERVER_NAMES = {
    "stub": "stub (direct)",
    "proxy": "thin proxy",
    "gateway": "gateway",
    "auth": "gateway, JWT enforced",
}
FLOOD_TARGET = 3.0  # the bad-input flood should answer at least 3x the valid rate
RSS_LIMIT_MB = 150.0
FLAT_MB = 5.0  # "flat": the second half of the soak grows RSS by at most this much


@dataclass(frozen=True)
class Measurement:
    """One load run against one server, with the server's CPU and the stub's call count."""

    scenario: str
    about: str
    server: str
    connections: int
    load: LoadResult
    cpu_ms: float  # the server's user + system CPU per answered request
    stub_cpu_ms: float  # the stub's, per answered request: it must stay far below cpu_ms
    upstream_calls: int  # creates and revokes the stub received during the run


@dataclass(frozen=True)
class Soak:
    """The long run, with the gateway's RSS sampled once a second."""

    measurement: Measurement
    rss_mb: list[float]
    idle_mb: float  # the gateway's RSS once ready, before its first request

    @property
    def second_half_growth_mb(self) -> float:
        half = self.rss_mb[len(self.rss_mb) // 2 :]
        return max(half) - half[0]

    @property
    def flat(self) -> bool:
        return self.second_half_growth_mb <= FLAT_MB

    def summary(self) -> dict[str, Any]:
        return {
            "idle_mb": self.idle_mb,
            "start_mb": self.rss_mb[0],
            "end_mb": self.rss_mb[-1],
            "max_mb": max(self.rss_mb),
            "second_half_growth_mb": self.second_half_growth_mb,
            "flat": self.flat,
            "under_limit": max(self.rss_mb) < RSS_LIMIT_MB,
        }


@dataclass
class Results:
    environment: dict[str, str]
    measurements: list[Measurement] = field(default_factory=list)
    soak: Soak | None = None

    def find(self, scenario: str, server: str) -> Measurement | None:
        return next(
            (m for m in self.measurements if (m.scenario, m.server) == (scenario, server)), None
        )

    def problems(self) -> list[str]:
        """What makes the run wrong rather than slow: failed answers, upstream calls on bad input."""
        found = []
        runs = [*self.measurements, *([self.soak.measurement] if self.soak else [])]
        for m in runs:
            if m.load.failed or m.load.samples_ok is False or not m.load.ok:
                found.append(
                    f"{m.scenario} / {SERVER_NAMES[m.server]}: {m.load.failed} failed answers"
                    f" of {m.load.answered}"
                    + (", sample check failed" if m.load.samples_ok is False else "")
                    + (f"; first: {m.load.first_failure}" if m.load.first_failure else "")
                )
        flood = self.find("bad-input", "gateway")
        if flood is not None and flood.upstream_calls:
            found.append(f"bad-input: the stub received {flood.upstream_calls} calls (want 0)")
        return found


def _ratio(value: float, base: float) -> str:
    if not base or math.isnan(value) or math.isnan(base):
        return "-"
    ratio = value / base
    return f"{ratio:.3f}x (1/{1 / ratio:,.0f})" if 0 < ratio < 0.1 else f"{ratio:.2f}x"


def _row(m: Measurement) -> str:
    load = m.load
    return (
        f"| {m.scenario} | {SERVER_NAMES[m.server]} | {m.connections} | {load.per_second:,.0f}"
        f" | {load.p50_ms:.2f} | {load.p99_ms:.2f} | {m.cpu_ms:.2f} | {m.stub_cpu_ms:.3f}"
        f" | {load.failed} |"
    )


def render(results: Results) -> str:
    env = results.environment
    lines = [
        "## scripts/bench create",
        "",
        *(f"- {name}: {value}" for name, value in env.items()),
        "",
        "| scenario | server | conns | req/s | p50 ms | p99 ms | CPU ms/req | stub CPU ms/req"
        " | failed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(_row(m) for m in results.measurements),
        *([_row(results.soak.measurement)] if results.soak else []),
        "",
        "req/s counts only answers with the success shape (a failed one is counted in `failed`,"
        " never as throughput). CPU ms/req: the measured server's own process (utime + stime"
        " from /proc, all its threads) per answered request; stub CPU ms/req: the stub's, which"
        " shows it is never the bottleneck. CPU per request is the steadier figure when other"
        " work shares the machine; req/s and latency move with the machine's load.",
    ]
    ratios = []
    for m in results.measurements:
        if m.server != "gateway":
            continue
        stub, proxy = results.find(m.scenario, "stub"), results.find(m.scenario, "proxy")
        if stub is None and proxy is None:
            continue
        cells = [
            *(_ratio(m.load.per_second, b.load.per_second) if b else "-" for b in (stub, proxy)),
            *(_ratio(m.load.p99_ms, b.load.p99_ms) if b else "-" for b in (stub, proxy)),
            _ratio(m.cpu_ms, proxy.cpu_ms) if proxy else "-",
        ]
        ratios.append(f"| {m.scenario} | " + " | ".join(cells) + " |")
    if ratios:
        lines += [
            "",
            "Gateway ÷ baseline (req/s: below 1 is slower; p99 and CPU: above 1 is slower):",
            "",
            "| scenario | req/s vs stub | req/s vs thin proxy | p99 vs stub | p99 vs thin proxy"
            " | CPU/req vs thin proxy |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            *ratios,
        ]
    lines += ["", "Checks:", ""]
    reference = results.find(REFERENCE, "gateway")
    flood = results.find("bad-input", "gateway")
    if flood and reference:
        ratio = flood.load.per_second / reference.load.per_second if reference.load.ok else 0
        met = "met" if ratio >= FLOOD_TARGET else "NOT met"
        lines.append(
            f"- bad-input flood: {flood.load.per_second:,.0f} req/s of INVALID_INPUT answers vs"
            f" {reference.load.per_second:,.0f} valid creates/s ({REFERENCE}):"
            f" {ratio:.2f}x (target >= {FLOOD_TARGET:g}x: {met}); CPU {flood.cpu_ms:.2f} vs"
            f" {reference.cpu_ms:.2f} ms/req; upstream calls during the flood:"
            f" {flood.upstream_calls} ({'OK' if not flood.upstream_calls else 'WRONG'})"
        )
    auth = results.find("auth", "auth")
    if auth and reference:
        lines.append(
            f"- auth: JWT enforced {auth.load.per_second:,.0f} req/s, p99 {auth.load.p99_ms:.1f} ms"
            f" vs disabled {reference.load.per_second:,.0f} req/s, p99"
            f" {reference.load.p99_ms:.1f} ms: {_ratio(auth.load.per_second, reference.load.per_second)}"
            f" throughput; CPU {auth.cpu_ms:.2f} vs {reference.cpu_ms:.2f} ms/req"
            f" ({_ratio(auth.cpu_ms, reference.cpu_ms)})"
        )
    if results.soak:
        s = results.soak.summary()
        load = results.soak.measurement.load
        lines.append(
            f"- soak ({load.seconds:.0f} s, {load.ok:,} creates, {load.failed} failed): RSS start"
            f" {s['start_mb']:.1f} MB, end {s['end_mb']:.1f} MB, max {s['max_mb']:.1f} MB"
            f" (idle after start-up: {s['idle_mb']:.1f} MB);"
            f" second half +{s['second_half_growth_mb']:.1f} MB"
            f" ({'flat' if s['flat'] else 'GROWING'});"
            f" {'under' if s['under_limit'] else 'OVER'} {RSS_LIMIT_MB:g} MB"
        )
    problems = results.problems()
    lines += [f"- PROBLEM: {p}" for p in problems] or ["- every answer had the success shape"]
    return "\n".join(lines)


def write_json(results: Results, path: Path) -> None:
    document = {
        "environment": results.environment,
        "measurements": [
            {**asdict(m), "per_second": m.load.per_second} for m in results.measurements
        ],
        "soak": (
            {
                **asdict(results.soak.measurement),
                "per_second": results.soak.measurement.load.per_second,
                "rss_mb": results.soak.rss_mb,
                **results.soak.summary(),
            }
            if results.soak
            else None
        ),
        "problems": results.problems(),
    }
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
