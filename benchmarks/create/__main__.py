"""createInvitation throughput of the gateway, as ratios to a stub and a thin Python proxy.

Starts an upstream stub (ConductorOne and Clerk happy paths), a thin hand-written proxy
(Starlette + aiohttp + orjson) and the gateway as a user runs it (`invitation-gateway serve`,
audit log on), and loads each with the same requests, one after the other, in the same run:

  c1-create-1       createInvitation into a ConductorOne directory, 1 connection
  c1-create-16      the same, 16 connections
  clerk-org-create  createInvitation into a Clerk organization, 16 connections
  clerk-revoke      revokeInvitation of Clerk organization invitations, 16 connections
  bad-input         invalid emails (INVALID_INPUT, no upstream call), gateway only, 16 conns
  auth              c1-create-16 with JWT authentication enforced, gateway only
  soak              the auth load for --soak seconds, the gateway's RSS sampled each second

Prints a Markdown report: req/s (answers with the success shape only), p50 and p99 latency,
CPU ms per request of the measured server, failed answers, the gateway's ratios to the stub
and the proxy, and the checks (flood >= 3x the valid rate with zero upstream calls, auth cost,
RSS flat and under 150 MB). Exits 1 when an answer failed or the flood reached the upstream.
Uses wrk when it is on PATH, a Python load generator otherwise.

    scripts/bench create [--duration 10] [--warmup 2] [--soak 60] [--scenario NAME]...
                         [--load auto|wrk|python] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ._load import wrk_path
from ._processes import ServerFailed
from ._report import render, write_json
from ._run import Options, run
from ._scenarios import SCENARIOS

NAMES = [s.name for s in SCENARIOS] + ["soak"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench create",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:3]),
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run (2)")
    parser.add_argument("--soak", type=float, default=60.0, help="soak seconds; 0 skips it (60)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=NAMES,
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument(
        "--load",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator; auto: wrk when it is on PATH, else Python",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.load == "wrk" and wrk_path() is None:
        parser.error("--load wrk: wrk is not on PATH (apt-get install wrk)")
    generator = "wrk" if args.load == "wrk" or (args.load == "auto" and wrk_path()) else "python"
    scenarios = tuple(args.scenario or NAMES)
    if args.soak <= 0:
        scenarios = tuple(name for name in scenarios if name != "soak")
    options = Options(args.duration, args.warmup, args.soak, scenarios, generator)
    try:
        results = asyncio.run(run(options))
    except ServerFailed as exc:
        print(f"scripts/bench create: {exc}", file=sys.stderr)  # noqa: T201 - why it stopped
        return 2
    print(render(results))  # noqa: T201 - the report is the program's output
    if args.json:
        write_json(results, args.json)
    return 1 if results.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
