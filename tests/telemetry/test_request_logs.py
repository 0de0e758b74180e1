"""One log line per GraphQL request and one per upstream call, as `serve` writes them (JSON)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from invitation_gateway.app import create_app
from invitation_gateway.providers.routing import HostRoutingTransport
from invitation_gateway.sandbox import Sandbox
from invitation_gateway.telemetry.logs import configure_logging
from tests.support.documents import CREATE, REVOKE
from tests.support.gateway import app_client
from tests.support.logs import LogLines
from tests.support.observed import Observed

BAD_IDS = ["x" * 129, "has space", "<script>", "a\tb", ""]


async def test_a_create_is_one_request_line_and_one_upstream_line(
    untraced: Observed, json_logs: LogLines
) -> None:
    """Both lines share the request id; ids and the email stay out (templates, masking)."""
    response = await untraced.post(CREATE, untraced.org_input("ada.lovelace@example.com"))
    assert response.json()["data"]["createInvitation"]["invitation"]["status"] == "PENDING"
    [request] = json_logs.events("graphql request")
    [call] = json_logs.events("upstream call")
    assert request["request_id"] == call["request_id"] == response.headers["x-request-id"]
    assert {k: request[k] for k in ("level", "caller", "operation", "operation_type")} == {
        "level": "info",
        "caller": "dev",
        "operation": "Create",
        "operation_type": "mutation",
    }
    assert (request["root_fields"], request["status"], request["outcome"]) == (
        ["createInvitation"],
        200,
        "ok",
    )
    assert request["duration_ms"] > 0
    assert {k: call[k] for k in ("provider", "connection", "operation", "method", "attempt")} == {
        "provider": "CLERK",
        "connection": "default",
        "operation": "create",
        "method": "POST",
        "attempt": 1,
    }
    assert call["path"] == "/organizations/{organization_id}/invitations"
    assert call["status"] == "200"
    assert call["duration_ms"] > 0
    assert untraced.sandbox.seed.organization_id not in json_logs.text
    assert "ada.lovelace@" not in json_logs.text


async def test_every_line_of_a_request_carries_its_id(
    untraced: Observed, json_logs: LogLines
) -> None:
    """A sane X-Request-ID from the caller is answered back and is in each of its lines."""
    sent = "req-7f3a9c2e-0001"
    response = await untraced.post(
        CREATE, untraced.org_input("a@example.com"), **{"X-Request-ID": sent}
    )
    assert response.headers["x-request-id"] == sent
    assert json_logs.records
    assert {r.get("request_id") for r in json_logs.records} == {sent}


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_an_insane_request_id_is_replaced(untraced: Observed, bad: str) -> None:
    """Too long, or with characters that could forge or break a log line: a fresh id instead."""
    response = await untraced.post(
        CREATE, untraced.org_input("a@example.com"), **{"X-Request-ID": bad}
    )
    answered = response.headers["x-request-id"]
    assert answered != bad
    assert len(answered) == 32
    assert answered.isalnum()


async def test_every_answer_has_a_request_id(untraced: Observed) -> None:
    """Health, readiness, metrics and refusals before GraphQL carry one too."""
    for path in ("/healthz", "/readyz", "/metrics", "/nowhere"):
        assert (await untraced.http.get(path)).headers.get("x-request-id")
    refused = await untraced.http.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert refused.status_code == 400
    assert refused.headers.get("x-request-id")


async def test_two_requests_get_two_ids(untraced: Observed) -> None:
    """Ids are generated per request, never reused."""
    first = await untraced.http.get("/healthz")
    second = await untraced.http.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_user_error_is_one_info_line_with_its_code(
    untraced: Observed, json_logs: LogLines
) -> None:
    """Bad input: INFO, the code, no upstream call, no traceback."""
    await untraced.post(CREATE, untraced.org_input("not-an-email"))
    [line] = json_logs.records
    assert (line["event"], line["level"], line["outcome"], line["codes"]) == (
        "graphql request",
        "info",
        "INVALID_INPUT",
        ["INVALID_INPUT"],
    )
    assert "Traceback" not in json_logs.text


async def test_an_outage_is_one_warning_per_failed_request_and_no_traceback(
    untraced: Observed, json_logs: LogLines
) -> None:
    """Clerk answering 503: each failed create is one WARNING line; the breaker then opens."""
    untraced.sandbox.clerk.faults.add(status=503, times=1000)
    failed = 12
    for n in range(failed):
        body = (await untraced.post(CREATE, untraced.org_input(f"p{n}@example.com"))).json()
        assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    loud = [r for r in json_logs.records if r["level"] != "info"]
    assert len(loud) == failed
    assert {(r["event"], r["level"], r["outcome"]) for r in loud} == {
        ("graphql request", "warning", "UPSTREAM_UNAVAILABLE")
    }
    assert "Traceback" not in json_logs.text
    assert "exception" not in json_logs.text
    calls = json_logs.events("upstream call")
    assert 0 < len(calls) < failed  # the breaker opened: later requests failed fast
    assert {c["status"] for c in calls} == {"503"}


class _ExplodingTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom for grace@example.com")


async def test_a_bug_logs_its_stack_once(sandbox: Sandbox, json_logs: LogLines) -> None:
    """INTERNAL: the request line at ERROR, and one line with the stack (emails masked)."""
    app = create_app(
        sandbox.settings(),
        transport=HostRoutingTransport({"clerk.sandbox": _ExplodingTransport()}),
        environ={},
    )
    async with app_client(app) as http:
        variables: dict[str, Any] = {
            "input": {"email": "a@example.com", "target": {"kind": "CLERK_APPLICATION"}}
        }
        await http.post("/graphql", json={"query": CREATE, "variables": variables})
    stacks = [r for r in json_logs.records if "exception" in r]
    assert len(stacks) == 1
    assert "RuntimeError: boom for g***@example.com" in stacks[0]["exception"]
    [request] = json_logs.events("graphql request")
    assert (request["level"], request["outcome"]) == ("error", "INTERNAL")
    assert "grace@" not in json_logs.text


async def test_revoke_of_an_unknown_id_logs_not_found(
    untraced: Observed, json_logs: LogLines
) -> None:
    """A forged or unknown id is a user error: INFO with its code."""
    await untraced.post(REVOKE, {"input": {"id": "bm9wZQ=="}})
    [line] = json_logs.events("graphql request")
    assert line["level"] == "info"
    assert line["outcome"] in {"NOT_FOUND", "INVALID_INPUT"}


def test_console_format_is_readable_and_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """The sandbox's lines: level, event, fields; emails masked all the same."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        configure_logging("console", "INFO")
        logging.getLogger("invitation_gateway.test").info(
            "invited %s", "ada@example.com", extra={"caller": "dev"}
        )
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    err = capsys.readouterr().err
    assert "invited a***@example.com" in err
    assert "caller=dev" in err
    assert "ada@" not in err


def test_lines_below_the_level_are_not_written(json_logs: LogLines) -> None:
    """At INFO, a DEBUG line writes nothing."""
    logging.getLogger("invitation_gateway.test").debug("quiet")
    logging.getLogger("httpx").info("HTTP Request: GET https://api.clerk.com/v1/invitations/inv_1")
    assert json_logs.text == ""
