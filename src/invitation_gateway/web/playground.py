"""Offline GraphiQL playground: an HTML page that loads only assets vendored in this package.

Strawberry's built-in GraphiQL page pulls React and GraphiQL from a public CDN, so behind a
firewall it never gets past "Loading...". This module renders a replacement page that loads the
pinned builds in ``static/graphiql`` (refreshed by ``scripts/vendor-graphiql``; versions and
sha256 sums in its ``VERSIONS.json``) and opens every example operation in its own tab.

The app mounts ``StaticFiles(directory=STATIC_DIR)`` under ``STATIC_MOUNT``, serves
``render_playground(...)`` as HTML, and may send ``playground_csp(page)`` as the page's
``Content-Security-Policy`` header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape as escape_html
from pathlib import Path
from typing import Final

STATIC_DIR: Final[Path] = Path(__file__).resolve().parent / "static" / "graphiql"
"""Folder holding the vendored GraphiQL, React and explorer-plugin builds."""

STATIC_MOUNT: Final = "/graphiql-static"
"""URL prefix the app mounts ``StaticFiles(directory=STATIC_DIR)`` under."""

MANIFEST_NAME: Final = "VERSIONS.json"
"""Manifest in ``STATIC_DIR``: package, version and sha256 of every vendored file."""

STORAGE_PREFIX: Final = "invitation-gateway.graphiql"
"""localStorage key prefix; the page adds a hash of its examples so new examples show up."""

_STYLESHEETS: Final = ("graphiql/graphiql.min.css", "plugin-explorer/style.css")
_SCRIPTS: Final = (
    "react/umd/react.production.min.js",
    "react-dom/umd/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "plugin-explorer/index.umd.js",
)

# Characters that must not appear raw in JSON embedded in an inline <script>: "<" and ">" could
# form "</script>" or "<!--", "&" is escaped for good measure, and U+2028/U+2029 end a line in
# older JavaScript engines. JSON only allows them inside strings, where \uXXXX means the same.
_SCRIPT_JSON_ESCAPES: Final = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)

_INLINE_SCRIPT: Final = re.compile(
    r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)

# The page's only inline script. __CONFIG__ is replaced by escaped JSON (see _script_json).
_BOOT_SCRIPT: Final = """
(() => {
  "use strict";
  const config = __CONFIG__;
  const prefix = config.storagePrefix + ":";
  const namespace = prefix + config.storageKey + ":";

  // GraphiQL restores its tabs from storage. Keep them under a key that changes whenever the
  // examples do, drop tabs saved for older examples, and fall back to memory if localStorage
  // is unavailable (disabled, or a private window that refuses writes).
  function openLocalStorage() {
    try {
      const store = window.localStorage;
      const probe = namespace + "probe";
      store.setItem(probe, "1");
      store.removeItem(probe);
      for (let i = store.length - 1; i >= 0; i -= 1) {
        const key = store.key(i);
        if (key !== null && key.startsWith(prefix) && !key.startsWith(namespace)) {
          store.removeItem(key);
        }
      }
      return store;
    } catch (error) {
      return null;
    }
  }

  const local = openLocalStorage();
  const memory = new Map();
  const ownKeys = () => {
    if (local === null) {
      return Array.from(memory.keys());
    }
    const keys = [];
    for (let i = 0; i < local.length; i += 1) {
      const key = local.key(i);
      if (key !== null && key.startsWith(namespace)) {
        keys.push(key.slice(namespace.length));
      }
    }
    return keys;
  };
  const storage = {
    getItem(key) {
      if (local === null) {
        return memory.has(key) ? memory.get(key) : null;
      }
      return local.getItem(namespace + key);
    },
    setItem(key, value) {
      if (local === null) {
        memory.set(key, String(value));
      } else {
        local.setItem(namespace + key, value);
      }
    },
    removeItem(key) {
      if (local === null) {
        memory.delete(key);
      } else {
        local.removeItem(namespace + key);
      }
    },
    clear() {
      for (const key of ownKeys()) {
        storage.removeItem(key);
      }
    },
    get length() {
      return ownKeys().length;
    },
  };

  // GraphiQL 3 opens the first default tab's query but fills the variables editor from the
  // stored "variables" entry only, so seed that entry on a visit with no saved tabs.
  const first = config.tabs.length > 0 ? config.tabs[0] : null;
  if (first !== null && first.variables !== null && storage.getItem("graphiql:tabState") === null) {
    storage.setItem("graphiql:variables", first.variables);
  }

  const plugins = [];
  if (typeof window.GraphiQLPluginExplorer !== "undefined") {
    plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
  }
  const props = {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    storage,
    plugins,
    inputValueDeprecation: true,
  };
  if (config.tabs.length > 0) {
    props.defaultTabs = config.tabs;
  }
  if (config.showVariables) {
    props.defaultEditorToolsVisibility = "variables";
  }
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
"""

_PAGE: Final = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>{title}</title>
{stylesheets}
    <style>
      html, body {{ height: 100%; margin: 0; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
      .playground-message {{ font-family: system-ui, sans-serif; margin: 2rem; }}
    </style>
  </head>
  <body>
    <div id="graphiql"><p class="playground-message">Loading GraphiQL…</p></div>
    <noscript>
      <p class="playground-message">
        This GraphQL playground needs JavaScript. Without it, send GraphQL requests
        (HTTP POST, JSON body with <code>query</code> and <code>variables</code>)
        to <code>{endpoint}</code>.
      </p>
    </noscript>
{scripts}
    <script>{boot}</script>
  </body>
</html>
"""


@dataclass(frozen=True)
class ExampleOperation:
    """A GraphQL operation the playground opens in its own tab."""

    name: str
    query: str
    variables: Mapping[str, object] | None = None


def render_playground(
    *,
    endpoint: str,
    examples: Sequence[ExampleOperation],
    title: str = "invitation-gateway",
    static_prefix: str = STATIC_MOUNT,
) -> str:
    """Return the playground's HTML page.

    The page loads GraphiQL from ``static_prefix`` only (a path on this server, where
    ``STATIC_DIR`` is mounted), sends operations to ``endpoint`` and opens one tab per
    example, the first one active; each tab's query starts with a ``# <name>`` comment.
    Keep ``endpoint`` on the page's origin if the page is sent with ``playground_csp``.
    """
    if not static_prefix.startswith("/") or static_prefix.startswith("//") or "\\" in static_prefix:
        raise ValueError(f"static_prefix must be a path on this server, got {static_prefix!r}")
    prefix = static_prefix.rstrip("/")

    tabs = [_tab(example) for example in examples]
    storage_key = hashlib.sha256(
        json.dumps({"endpoint": endpoint, "tabs": tabs}, sort_keys=True).encode()
    ).hexdigest()[:16]
    config = {
        "endpoint": endpoint,
        "tabs": tabs,
        "showVariables": any(tab["variables"] for tab in tabs),
        "storagePrefix": STORAGE_PREFIX,
        "storageKey": storage_key,
    }
    versions = _asset_versions()
    stylesheets = "\n".join(
        f'    <link rel="stylesheet" href="{_asset_url(prefix, path, versions)}">'
        for path in _STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{_asset_url(prefix, path, versions)}"></script>' for path in _SCRIPTS
    )
    return _PAGE.format(
        title=escape_html(title),
        endpoint=escape_html(endpoint),
        stylesheets=stylesheets,
        scripts=scripts,
        boot=_BOOT_SCRIPT.replace("__CONFIG__", _script_json(config)),
    )


def playground_csp(html: str) -> str:
    """Return a Content-Security-Policy header value for a page from ``render_playground``.

    Scripts may come from this origin or be one of the page's inline scripts (allowed by
    sha256). Styles need ``'unsafe-inline'`` because GraphiQL's dialogs inject ``<style>``
    elements at run time; its stylesheet embeds its fonts and images as ``data:`` URLs.
    """
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self'{hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'",
        )
    )


def _tab(example: ExampleOperation) -> dict[str, str | None]:
    """Turn an example into a GraphiQL tab: query text plus variables as a JSON string."""
    name = " ".join(example.name.split())
    query = f"# {name}\n{example.query}" if name else example.query
    variables = None
    if example.variables is not None:
        variables = json.dumps(dict(example.variables), indent=2, ensure_ascii=False)
    return {"query": query, "variables": variables}


def _script_json(value: object) -> str:
    """JSON-encode ``value`` so it can sit inside an inline ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_JSON_ESCAPES)


def _asset_url(prefix: str, path: str, versions: Mapping[str, str]) -> str:
    """URL of a vendored file, with its content hash as a cache-busting query."""
    version = versions.get(path)
    url = f"{prefix}/{path}" if version is None else f"{prefix}/{path}?v={version}"
    return escape_html(url, quote=True)


@cache
def _asset_versions() -> dict[str, str]:
    """Map each vendored file in the manifest to a short prefix of its sha256."""
    manifest = json.loads((STATIC_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    return {entry["path"]: entry["sha256"][:12] for entry in manifest["files"]}
