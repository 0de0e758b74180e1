"""GraphiQL in a real browser: headless Chromium, driven by Playwright, on the sandbox command.

The page tests in `tests/web` read the HTML; only a browser shows that the vendored scripts run
under the page's Content-Security-Policy, that the example tabs open with their variables, and
that a person clicking Run gets an answer without the page reaching for a CDN. The browser is
`TEST_CHROMIUM` when set, else the system Chromium (`.ci/run` installs the `chromium` package),
else the one `playwright install chromium` downloads. Without any, the test skips with the
reason; with `CI` set it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.servers import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

CREATE_TAB = "InviteToClerkOrganization"  # GraphiQL names a tab after its operation
REVOKE_TAB = "RevokeInvitation"
ACTION_TIMEOUT_MS = 10_000
SANDBOX_START_SECONDS = 30

# The editors are CodeMirror 5, which draws only the lines in view: read an editor's whole
# text from the CodeMirror instance its wrapper element carries, not from the drawn lines.
_EDITOR_TEXT = "selector => document.querySelector(selector).CodeMirror.getValue()"
_RESULT_EDITOR = ".result-window .CodeMirror"
_QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
_VARIABLES_EDITOR = "section.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
# GraphiQL parses the query editor 100 ms after it changes and runs the operation it found then:
# Run pressed sooner after a tab switch sends the new query with the old tab's operation name
# ("Unknown operation named ..."). A person is never that quick; the test waits for the parse.
_PARSED = """([selector, name]) =>
  document.querySelector(selector).CodeMirror.operationName === name"""
# A response has arrived once the result pane holds the mutation's field or an `errors` list.
_ANSWERED = """([selector, field]) => {
  const text = document.querySelector(selector).CodeMirror.getValue();
  return text.includes(`"${field}"`) || text.includes('"errors"');
}"""


def _unavailable(reason: str) -> NoReturn:
    """Skip for want of a browser; under CI, where `.ci/run` installs one, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the browser test must run", pytrace=False)
    pytest.skip(reason)


def _system_chromium() -> str | None:
    """`TEST_CHROMIUM`, else a `chromium` on PATH; None to try Playwright's own download."""
    override = os.environ.get("TEST_CHROMIUM")
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            _unavailable(f"TEST_CHROMIUM={override} is not an executable file")
        return override
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh page in headless Chromium; skips (or under CI fails) when there is no browser."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright for Python is not installed ({exc}): pip install -e '.[dev]'")
    executable = _system_chromium()
    with sync_playwright() as playwright:
        if executable is None and not Path(playwright.chromium.executable_path).is_file():
            _unavailable(
                "no Chromium: install the `chromium` package (as .ci/run does), set"
                " TEST_CHROMIUM to a Chromium executable, or run `playwright install chromium`"
            )
        try:
            browser = playwright.chromium.launch(executable_path=executable, headless=True)
        except Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            _unavailable(
                f"Chromium ({executable or 'Playwright download'}) did not start: {first_line}"
            )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`invitation-gateway sandbox` on a loopback port, as a frontend developer starts it."""
    port = free_port()
    log = tmp_path / "sandbox.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    command = [sys.executable, "-m", "invitation_gateway", "sandbox", "--port", str(port)]
    with (
        log.open("w") as log_file,
        subprocess.Popen(
            [*command, "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        ) as process,
    ):
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + SANDBOX_START_SECONDS
            while not _healthy(base):
                if process.poll() is not None:
                    pytest.fail(f"the sandbox exited early:\n{log.read_text()}", pytrace=False)
                if time.monotonic() > deadline:
                    pytest.fail(f"the sandbox did not start within {SANDBOX_START_SECONDS} s")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _open_tab(page: Page, name: str) -> None:
    """Click the example's tab and wait until GraphiQL has parsed its operation."""
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_function(_PARSED, arg=[_QUERY_EDITOR, name])


def _run(page: Page, field: str) -> dict[str, Any]:
    """Press Run, wait for the answer in the result pane, and return it parsed."""
    page.get_by_role("button", name="Execute query").click()
    page.wait_for_function(_ANSWERED, arg=[_RESULT_EDITOR, field])
    text: str = page.evaluate(_EDITOR_TEXT, _RESULT_EDITOR)
    body: dict[str, Any] = json.loads(text)
    assert "errors" not in body, text
    payload: dict[str, Any] = body["data"][field]
    assert payload["userErrors"] == [], text
    return payload


def _paste_variables(page: Page, variables: dict[str, Any]) -> None:
    """Replace the variables editor's text the way a person pastes: select all, paste."""
    text = json.dumps(variables, indent=2)
    page.get_by_role("button", name="Variables", exact=True).click()
    page.locator(_VARIABLES_EDITOR).click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    assert page.evaluate(_EDITOR_TEXT, _VARIABLES_EDITOR) == text


@pytest.mark.e2e
def test_graphiql_invites_then_revokes_in_chromium(page: Page, sandbox_url: str) -> None:
    """In Chromium, the org invite example shows PENDING, revoke on its id REVOKED, all same-origin."""
    from playwright.sync_api import expect

    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    page.goto(f"{sandbox_url}/graphql")
    _open_tab(page, CREATE_TAB)
    created = _run(page, "createInvitation")["invitation"]
    assert created["status"] == "PENDING"
    assert created["target"]["kind"] == "CLERK_ORGANIZATION"
    expect(page.locator(".result-window")).to_contain_text('"status": "PENDING"')

    # The revoke tab opens on a seeded invitation; revoke the one just made, as its comment says.
    _open_tab(page, REVOKE_TAB)
    _paste_variables(page, {"input": {"id": created["id"]}})
    revoked = _run(page, "revokeInvitation")["invitation"]
    assert (revoked["id"], revoked["status"]) == (created["id"], "REVOKED")
    expect(page.locator(".result-window")).to_contain_text('"status": "REVOKED"')

    origin = urlsplit(sandbox_url)[:2]
    assert f"{sandbox_url}/graphql" in requested
    assert [url for url in requested if urlsplit(url)[:2] != origin] == []
    assert errors == []
