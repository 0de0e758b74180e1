"""`GET /metrics`: the names DESIGN.md fixes, counted right, with labels that carry no ids."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from invitation_gateway.app import create_app
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.settings import RateLimitSettings
from tests.support.documents import CREATE
from tests.support.gateway import app_client
from tests.support.observed import Observed

IDEMPOTENT_CREATE = CREATE


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def scrape(observed: Observed) -> str:
    response = await observed.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_and_upstream_calls_are_counted(untraced: Observed) -> None:
    """One create: a request ok, an upstream 201/200, a duration observed for each."""
    await untraced.post(CREATE, untraced.org_input("ada@example.com"))
    await untraced.post(CREATE, untraced.org_input("not-an-email"))
    found = samples(await scrape(untraced))
    ok = ("gateway_requests_total", (("operation", "createInvitation"), ("outcome", "ok")))
    bad = (
        "gateway_requests_total",
        (("operation", "createInvitation"), ("outcome", "INVALID_INPUT")),
    )
    assert (found[ok], found[bad]) == (1.0, 1.0)
    upstream = {
        labels: value
        for (name, labels), value in found.items()
        if name == "gateway_upstream_requests_total"
    }
    assert upstream == {
        (
            ("connection", "default"),
            ("operation", "create"),
            ("provider", "CLERK"),
            ("status", "200"),
        ): 1.0
    }
    count = ("gateway_request_duration_seconds_count", (("operation", "createInvitation"),))
    assert found[count] == 2.0
    upstream_count = (
        "gateway_upstream_request_duration_seconds_count",
        (("connection", "default"), ("operation", "create"), ("provider", "CLERK")),
    )
    assert found[upstream_count] == 1.0


async def test_the_circuit_gauge_is_live(untraced: Observed) -> None:
    """gateway_circuit_open is 0 per connection, then 1 once failures open the breaker."""
    closed = samples(await scrape(untraced))
    clerk = ("gateway_circuit_open", (("connection", "default"), ("provider", "CLERK")))
    staging = ("gateway_circuit_open", (("connection", "staging"), ("provider", "CLERK")))
    assert (closed[clerk], closed[staging]) == (0.0, 0.0)
    untraced.sandbox.clerk.faults.add(status=503, times=1000)
    for n in range(8):
        await untraced.post(CREATE, untraced.org_input(f"p{n}@example.com"))
    opened = samples(await scrape(untraced))
    assert (opened[clerk], opened[staging]) == (1.0, 0.0)
    outage = (
        "gateway_requests_total",
        (("operation", "createInvitation"), ("outcome", "UPSTREAM_UNAVAILABLE")),
    )
    assert opened[outage] == 8.0


async def test_retries_replays_and_refusals_are_counted(untraced: Observed) -> None:
    """A retried read, an idempotent replay and a refused budget each move their counter."""
    untraced.sandbox.clerk.faults.add(status=503, method="GET", times=1)
    listed = await untraced.post(
        "query($t: [InvitationTargetInput!]!) { invitations(targets: $t) { edges { node { id } } } }",
        {"t": [{"kind": "CLERK_ORGANIZATION", "id": untraced.sandbox.seed.organization_id}]},
    )
    assert "errors" not in listed.json(), listed.text
    keyed = untraced.org_input("key@example.com")
    keyed["input"]["idempotencyKey"] = "order-42"
    for _ in range(2):
        await untraced.post(CREATE, keyed)
    found = samples(await scrape(untraced))
    retries = [v for (name, _), v in found.items() if name == "gateway_upstream_retries_total"]
    assert retries == [1.0]
    assert found["gateway_idempotent_replays_total", ()] == 1.0


async def test_labels_never_carry_ids_or_emails(untraced: Observed) -> None:
    """Whatever callers send, label values come from the schema, the codes and the config."""
    seed = untraced.sandbox.seed
    await untraced.post(CREATE, untraced.org_input("ada@example.com"))
    await untraced.post(
        "mutation Sneaky($i: CreateInvitationInput!) { x_ada_example_com: createInvitation(input: $i) { invitation { id } } }",
        untraced.org_input("bob@example.com"),
    )
    await untraced.post("{ nosuchfield_" + seed.organization_id + " }", {})
    text = await scrape(untraced)
    labels = set(re.findall(r'="([^"]*)"', text))
    assert not any("@" in value for value in labels)
    assert not any(seed.organization_id in value for value in labels)
    assert not any("ada" in value or "Sneaky" in value for value in labels)


async def test_refused_budgets_are_counted_by_limit(sandbox: Sandbox) -> None:
    """Over the creates budget (a user error) and over the requests budget (HTTP 429)."""
    tight = RateLimitSettings(requests_per_minute=3, creates_per_minute=1)
    app = create_app(sandbox.settings(rate_limit=tight), transport=sandbox.transport(), environ={})
    target = {"kind": "CLERK_ORGANIZATION", "id": sandbox.seed.organization_id}
    async with app_client(app) as http:
        statuses = []
        for n in range(4):
            variables = {
                "input": {"target": target, "email": f"r{n}@example.com", "roles": ["org:member"]}
            }
            answer = await http.post("/graphql", json={"query": CREATE, "variables": variables})
            statuses.append(answer.status_code)
        text = (await http.get("/metrics")).text
    assert statuses == [200, 200, 200, 429]
    found = samples(text)
    assert found["gateway_rate_limited_total", (("limit", "creates"),)] == 2.0
    assert found["gateway_rate_limited_total", (("limit", "requests"),)] == 1.0
    refused = ("gateway_requests_total", (("operation", "-"), ("outcome", "RATE_LIMITED")))
    assert found[refused] == 1.0
