"""Running `serve`, `sandbox` and `emulate` under uvicorn, as `cli.py` dispatches them.

`serve`'s app is built from the environment (`gateway_app`), its store URLs checked before the
lifespan opens the stores; with `--workers N` each worker process builds its own through the
factory `_worker_app`, the metrics shared in one directory. Logs are JSON lines for `serve` and
readable ones for the sandbox and the emulators, unless configured. Before uvicorn runs, what
start-up built is frozen out of the garbage collector (`settle_memory`).

An expected start-up failure (a store that cannot be reached, an unusable setting, a file or
socket the system refuses) is one log line, by `_StartupErrors`, as the command itself reports
one; any other failure keeps its traceback.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .configuration_error import ConfigurationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from .settings import LogSettings, Settings

PROGRAM = "invitation-gateway"  # what the command's one-line messages start with

# CPython's own thresholds, chosen on evidence: once start-up's objects are frozen, collections
# are cheap, and raising the first threshold to 10,000 or 50,000 made them rarer but longer
# (p99 of 16 concurrent creates 52-62 ms at (700, 10, 10), 91-114 ms at (50_000, 20, 100);
# README "Performance").
GC_THRESHOLDS = (700, 10, 10)


def load_settings() -> Settings:
    """The settings from the environment; `ConfigurationError`, one line per bad variable.

    The credentials the variables hold are judged here too, by their vendors (`upstreams.py`):
    a malformed key is a malformed variable, whatever the command.
    """
    from .settings import Settings
    from .upstreams import check_credentials, environment_connections

    try:
        settings = Settings()
    except ValidationError as exc:
        # Say which variable and why, never the value: it may be a secret.
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            location = "__".join(str(part).upper() for part in error["loc"])
            where = f"GATEWAY_{location}: " if location else ""
            lines.append(f"{where}{error['msg']}")
        raise ConfigurationError("\n".join(lines)) from None
    check_credentials(environment_connections(settings))
    return settings


def configure_command_logging(command: str, log_level: str | None, log: LogSettings) -> None:
    """JSON lines for `serve`, readable ones for the sandbox and emulators, unless configured."""
    from .telemetry.logs import configure_logging

    fmt = log.format or ("json" if command == "serve" else "console")
    configure_logging(fmt, (log_level or log.level).upper())


def gateway_app(settings: Settings) -> ASGIApp:
    """`serve`'s app from the settings of the environment."""
    from .app import create_app
    from .diagnostics import store_url_problems
    from .upstreams import configured_connections, missing_upstream

    # Read the connections file now: a set file may still hold no entry, and DESIGN.md has
    # `serve` refuse to start with nothing to serve.
    named = configured_connections(settings, os.environ)
    if not named:
        raise ConfigurationError(missing_upstream(settings))
    if problems := store_url_problems(settings):  # before the lifespan opens the stores
        raise ConfigurationError("\n".join(problems))
    # ConfigurationError: reported by `main`
    return _StartupErrors(create_app(settings, configured=named))


def run(app: ASGIApp, *, host: str, port: int) -> None:
    """Serve `app` in this process until interrupted."""
    import uvicorn

    settle_memory()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,  # our logging, configured by `configure_command_logging`
        access_log=False,  # the gateway logs each request itself
        proxy_headers=False,
    )


def run_workers(settings: Settings, workers: int, *, host: str, port: int) -> None:
    """`serve --workers N`: N worker processes on one port, each building its own app."""
    gateway_app(settings)  # configuration errors now, once, not in every worker
    _share_metrics_between_workers()
    import uvicorn

    # Each worker builds its own app (and its pools) from the same environment.
    uvicorn.run(
        f"{__name__}:_worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=None,  # our logging, configured again in each worker by the factory
        access_log=False,  # the gateway logs each request itself
        proxy_headers=False,
    )


def _worker_app() -> ASGIApp:
    """uvicorn's factory in each worker process of `serve --workers N`."""
    settings = load_settings()
    configure_command_logging("serve", None, settings.log)
    app = gateway_app(settings)
    settle_memory()
    return app


def _share_metrics_between_workers() -> None:
    """Prometheus multiprocess mode: each worker writes its values to one directory."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        # Inherited by the workers, which read it when prometheus-client is first imported.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="invitation-gateway-metrics-"
        )


def settle_memory() -> None:
    """Collect once, then freeze what start-up built (modules, schema, pools) out of the GC.

    Full collections otherwise walk every long-lived object again and again: they were the
    p99 under load (issue "Fast", README "Performance"). Thresholds: see `GC_THRESHOLDS`.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class _StartupErrors:
    """`serve`'s app as uvicorn runs it: an expected start-up failure is one log line.

    The lifespan opens the stores; when one cannot be reached (`StartupError`), a setting turns
    out unusable, or the system refuses a file or socket, Starlette hands uvicorn the whole
    traceback to log. For those, uvicorn gets the one-line message instead (it then says
    "Application startup failed" and exits non-zero); any other failure keeps its traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        from .accountability import StartupError

        self.app = app
        self._expected = (StartupError, ConfigurationError, OSError)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def relay(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)  # sent below, once we know what failed
                return
            await send(message)

        try:
            await self.app(scope, receive, relay)
        except self._expected as exc:
            if not held:  # not a start-up failure (shutdown): as uvicorn would report it
                raise
            await send({"type": "lifespan.startup.failed", "message": _startup_message(exc)})
        except BaseException:
            for message in held:
                await send(message)
            raise


def _startup_message(exc: BaseException) -> str:
    if isinstance(exc, ConfigurationError):
        return f"{PROGRAM}: configuration error: {one_line(exc)}"
    if isinstance(exc, OSError):
        return f"{PROGRAM}: cannot start: {one_line(exc)}"
    return f"{PROGRAM}: {one_line(exc)}"  # StartupError: "cannot start: <store> ..."


def one_line(exc: BaseException) -> str:
    """An error's message folded onto one line (its type's name when it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__
