"""Tests for the offline GraphiQL playground page and its vendored assets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from invitation_gateway.web.playground import (
    MANIFEST_NAME,
    STATIC_DIR,
    STATIC_MOUNT,
    ExampleOperation,
    playground_csp,
    render_playground,
)

BREAKOUT = "</script><script>alert(1)</script>"

EXAMPLES = (
    ExampleOperation(
        name="Invite a user",
        query="mutation Invite($email: String!) {\n  invite(email: $email) { id }\n}",
        variables={"email": "ada@example.com", "note": "<b>&</b> \u2028"},
    ),
    ExampleOperation(name="List invitations", query="query Invitations {\n  invitations { id }\n}"),
    ExampleOperation(name="Hostile", query=f'query Hostile {{\n  hello(name: "{BREAKOUT}")\n}}'),
)


class _AssetCollector(HTMLParser):
    """Collects script sources, stylesheet links and inline script bodies of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            src = values.get("src")
            if src is None:
                self._in_inline_script = True
                self.inline_scripts.append("")
            else:
                self.scripts.append(src)
        elif tag == "link" and values.get("href") is not None:
            self.links.append(str(values["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def _parse(page: str) -> _AssetCollector:
    collector = _AssetCollector()
    collector.feed(page)
    collector.close()
    return collector


def _config(page: str) -> dict[str, Any]:
    match = re.search(r"const config = (.*);\n", page)
    assert match is not None
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def _page(**overrides: Any) -> str:
    arguments: dict[str, Any] = {"endpoint": "/graphql", "examples": EXAMPLES}
    arguments.update(overrides)
    return render_playground(**arguments)


@pytest.fixture
def app() -> FastAPI:
    """A tiny app serving the vendored assets and the playground page."""
    application = FastAPI()
    application.mount(STATIC_MOUNT, StaticFiles(directory=STATIC_DIR), name="graphiql-static")

    @application.get("/playground", response_class=HTMLResponse)
    async def playground() -> HTMLResponse:
        page = _page()
        return HTMLResponse(page, headers={"Content-Security-Policy": playground_csp(page)})

    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_every_asset_is_local_and_served(client: httpx.AsyncClient) -> None:
    """Each <script src> and <link href> is a path on this server, served 200 as JS or CSS."""
    response = await client.get("/playground")
    assert response.status_code == 200
    assets = _parse(response.text)
    assert len(assets.scripts) >= 3
    assert assets.links
    expected = {"script": ("text/javascript", "application/javascript"), "link": ("text/css",)}
    for kind, urls in (("script", assets.scripts), ("link", assets.links)):
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme
            assert not parts.netloc
            assert parts.path.startswith(f"{STATIC_MOUNT}/")
            served = await client.get(url)
            assert served.status_code == 200, url
            assert served.headers["content-type"].startswith(expected[kind]), url
            assert served.content


async def test_page_loads_react_react_dom_and_graphiql(client: httpx.AsyncClient) -> None:
    """The page loads React, ReactDOM and GraphiQL (scripts in that order) plus GraphiQL's CSS."""
    assets = _parse((await client.get("/playground")).text)
    paths = [urlsplit(url).path for url in assets.scripts]
    order = ["react.production.min.js", "react-dom.production.min.js", "graphiql.min.js"]
    positions = [next(i for i, p in enumerate(paths) if p.endswith(name)) for name in order]
    assert positions == sorted(positions)
    assert any(urlsplit(url).path.endswith("graphiql.min.css") for url in assets.links)


async def test_page_has_no_external_urls(client: httpx.AsyncClient) -> None:
    """The page's HTML names no http(s) or protocol-relative URL (no CDN, fonts, analytics)."""
    page = (await client.get("/playground")).text
    assert re.search(r"https?:", page, re.IGNORECASE) is None
    assert re.search(r"""(src|href)\s*=\s*["']?//""", page, re.IGNORECASE) is None


def test_script_breakout_in_example_is_escaped() -> None:
    """A query containing </script><script>… stays inside the inline script's JSON, intact."""
    page = _page()
    assert BREAKOUT not in page
    assert page.lower().count("</script") == len(_parse(page).scripts) + 1
    assert "\u2028" not in page
    queries = [tab["query"] for tab in _config(page)["tabs"]]
    assert any(BREAKOUT in query for query in queries)


def test_title_and_endpoint_are_html_escaped() -> None:
    """Title and endpoint cannot inject markup into the page's HTML text."""
    page = _page(title="</title><script>alert(1)</script>", endpoint='/graphql"><img src=x>')
    assert "<script>alert(1)" not in page
    assert "<img src=x>" not in page
    assert "&lt;/title&gt;" in page
    assert _config(page)["endpoint"] == '/graphql"><img src=x>'


def test_examples_become_tabs_in_order() -> None:
    """Every example is a default tab, first one first, with variables as a JSON string."""
    tabs = _config(_page())["tabs"]
    assert len(tabs) == len(EXAMPLES)
    for tab, example in zip(tabs, EXAMPLES, strict=True):
        assert tab["query"] == f"# {example.name}\n{example.query}"
        if example.variables is None:
            assert tab["variables"] is None
        else:
            assert json.loads(tab["variables"]) == example.variables
    assert "defaultTabs" in _page()


def test_storage_namespace_changes_with_examples() -> None:
    """Changed examples get a fresh storage namespace, so stale saved tabs don't hide them."""
    same = _config(_page())["storageKey"]
    assert _config(_page())["storageKey"] == same
    changed = _config(_page(examples=EXAMPLES[:2]))["storageKey"]
    assert changed != same
    assert _config(_page(endpoint="/other"))["storageKey"] != same


def test_no_examples_still_renders() -> None:
    """With no examples the page still renders GraphiQL with its own default tab."""
    page = _page(examples=())
    assert _config(page)["tabs"] == []
    assert "GraphiQL.createFetcher" in page


@pytest.mark.parametrize("prefix", ["https://cdn.example.com/graphiql", "//cdn.example.com", "x"])
def test_static_prefix_must_be_local(prefix: str) -> None:
    """A static prefix that is not a path on this server is refused."""
    with pytest.raises(ValueError, match="static_prefix"):
        _page(static_prefix=prefix)


def test_csp_allows_exactly_the_inline_script() -> None:
    """The CSP allows the page's inline script by sha256 and no inline or eval'd script."""
    page = _page()
    inline = _parse(page).inline_scripts
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    directives = dict(part.strip().partition(" ")[::2] for part in playground_csp(page).split(";"))
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-eval" not in playground_csp(page)


def test_manifest_matches_files_on_disk() -> None:
    """VERSIONS.json lists every vendored file with the sha256 it has on disk."""
    manifest = json.loads((STATIC_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {entry["path"] for entry in manifest["files"]}
    for entry in manifest["files"]:
        data = (STATIC_DIR / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert manifest["packages"][entry["package"]]["version"] == entry["version"]
    on_disk = {
        path.relative_to(STATIC_DIR).as_posix() for path in STATIC_DIR.rglob("*") if path.is_file()
    }
    assert on_disk - listed <= {MANIFEST_NAME, "LICENSES.md"}
    assert not any(path.endswith(".map") for path in on_disk)


def test_page_references_only_manifest_files() -> None:
    """Every asset the page loads is a vendored file listed in the manifest."""
    manifest = json.loads((STATIC_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {entry["path"] for entry in manifest["files"]}
    assets = _parse(_page())
    for url in assets.scripts + assets.links:
        assert urlsplit(url).path.removeprefix(f"{STATIC_MOUNT}/") in listed
