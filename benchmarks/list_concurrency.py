"""How long one `invitations` page takes across 8 slow targets (issue: read side).

Each of 8 targets (3 ConductorOne directories, 4 Clerk organizations, the Clerk application)
answers after an added 100 ms. Read one after another, a page would take 8 x 100 ms; read
concurrently, it should take about one latency. This prints the median and p95 over several
pages and the ratio to a single target's latency.

    scripts/bench list   # or: python -m benchmarks.list_concurrency [--pages 30] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from asgi_lifespan import LifespanManager

from invitation_gateway.sandbox import Sandbox, create_sandbox_app

QUERY = """query Page($targets: [InvitationTargetInput!]!, $after: String) {
  invitations(targets: $targets, first: 20, after: $after) {
    edges { node { id createdAt } }
    pageInfo { hasNextPage endCursor }
    errors { code }
  }
}"""


def _eight_targets(sandbox: Sandbox, latency: float) -> list[dict[str, object]]:
    targets: list[dict[str, object]] = [{"kind": "CLERK_APPLICATION"}]
    sandbox.clerk.latency_by_target["application"] = latency
    directories = [
        sandbox.seed.directory_id,
        "2benchDirectoryB000000000000",
        "2benchDirectoryC000000000000",
    ]
    for index, directory in enumerate(directories):
        if index:
            sandbox.conductorone.add_directory(directory, f"Bench {index}")
        for n in range(25):
            sandbox.conductorone.add_invitation(
                directory, f"d{index}-{n}@example.com", f"D{index} {n}"
            )
        sandbox.conductorone.latency_by_target[directory] = latency
        targets.append({"kind": "CONDUCTORONE_DIRECTORY", "id": directory})
    organizations = [sandbox.seed.organization_id, "org_benchB", "org_benchC", "org_benchD"]
    for index, organization in enumerate(organizations):
        if index:
            sandbox.clerk.add_organization(organization, f"Bench {index}")
        for n in range(25):
            sandbox.clerk.add_organization_invitation(organization, f"o{index}-{n}@example.com")
        sandbox.clerk.latency_by_target[organization] = latency
        targets.append({"kind": "CLERK_ORGANIZATION", "id": organization})
    return targets


async def run(pages: int, latency: float) -> dict[str, float]:
    sandbox = Sandbox.create()
    targets = _eight_targets(sandbox, latency)
    app = create_sandbox_app(sandbox)
    timings: list[float] = []
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://bench"
        ) as http,
    ):
        after = None
        for _ in range(pages):
            started = time.perf_counter()
            response = await http.post(
                "/graphql", json={"query": QUERY, "variables": {"targets": targets, "after": after}}
            )
            timings.append(time.perf_counter() - started)
            connection = response.json()["data"]["invitations"]
            if connection["errors"]:  # a benchmark of failing reads would measure nothing
                raise RuntimeError(f"the list reported errors: {connection['errors']}")
            after = (
                connection["pageInfo"]["endCursor"]
                if connection["pageInfo"]["hasNextPage"]
                else None
            )
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 20 else max(timings)
    return {
        "targets": len(targets),
        "latency": latency,
        "median": median,
        "p95": p95,
        "ratio": median / latency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    result = asyncio.run(run(args.pages, args.latency))
    print(  # noqa: T201 - a benchmark reports on stdout
        f"invitations page over {result['targets']} targets, {result['latency'] * 1000:.0f} ms each: "
        f"median {result['median'] * 1000:.1f} ms, p95 {result['p95'] * 1000:.1f} ms, "
        f"ratio to one target {result['ratio']:.2f}x (sequential would be {result['targets']:.0f}x)"
    )


if __name__ == "__main__":
    main()
