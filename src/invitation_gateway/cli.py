"""The `invitation-gateway` command: `serve`, `sandbox`, `emulate`, `check-config`,
`export-schema`, `api-key`, `migrate` and `audit`.

Errors a person can act on are one line on stderr and a non-zero exit, never a traceback:
configuration errors (exit 2: a variable or file, by name and line, never its value), a store
that cannot be reached at start-up (`StartupError`), a file or socket the system refuses
(`OSError`). In `serve` the stores are opened in the app's lifespan, inside uvicorn, so
`_StartupErrors` turns those failures into one log line too. Anything else is a bug, and keeps
its traceback: hiding it would leave nothing to fix it from.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .settings import ConfigurationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from .settings import Settings

PROGRAM = "invitation-gateway"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; expected errors are one line on stderr and a non-zero status."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigurationError as exc:
        # The variable, or the file, line and entry, and the problem; never a value. A bad
        # file may hold several problems: one line each.
        for line in str(exc).splitlines():
            print(f"{PROGRAM}: configuration error: {line}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or socket the system refused: its message names it
        print(f"{PROGRAM}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # StartupError is looked up, not imported: most commands never load the stores (and
        # start faster for it), and an error raised before they load cannot be one.
        accountability = sys.modules.get(f"{__package__}.accountability")
        if accountability is None or not isinstance(exc, accountability.StartupError):
            raise  # a bug: its traceback is what there is to fix it from
        print(f"{PROGRAM}: {exc}", file=sys.stderr)  # names the store, never a password
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="invitation-gateway",
        description="One GraphQL API for ConductorOne and Clerk invitations.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the gateway with the configured upstreams")
    sandbox = commands.add_parser(
        "sandbox", help="serve the gateway against built-in emulators (no vendor account needed)"
    )
    emulate = commands.add_parser(
        "emulate", help="serve only the Clerk and ConductorOne emulators, for vendor SDKs and curl"
    )
    listeners = (
        (serve, "0.0.0.0", 8000),  # noqa: S104 - serve is meant to listen on all interfaces
        (sandbox, "127.0.0.1", 8000),
        (emulate, "127.0.0.1", 8001),  # beside a gateway on 8000
    )
    for command, host, port in listeners:
        command.add_argument("--host", default=host)
        command.add_argument("--port", type=int, default=port)
        command.add_argument(
            "--log-level",
            default=None,
            choices=["debug", "info", "warning", "error"],
            help="default: GATEWAY_LOG__LEVEL, else info",
        )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on this port (default 1); /metrics then adds up all of them",
    )
    check = commands.add_parser(
        "check-config",
        help="load the configuration and reach every upstream connection and store serve would"
        " use (Redis, PostgreSQL, the JWKS): one line each, secrets masked; exit 0 when all work",
    )
    check.add_argument(
        "--timeout", type=float, default=5.0, help="seconds each check may take (default 5)"
    )
    check.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="also show the gateway's own log on stderr (default: only the check lines)",
    )
    export = commands.add_parser("export-schema", help="print the GraphQL schema as SDL")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    api_key = commands.add_parser("api-key", help="manage the API keys of service callers")
    api_key_commands = api_key.add_subparsers(dest="api_key_command", required=True)
    new_key = api_key_commands.add_parser(
        "new", help="print a fresh key once, and the entry for GATEWAY_AUTH__API_KEYS_FILE"
    )
    new_key.add_argument("name", help="the caller's name: the caller is then api_key:NAME")
    commands.add_parser(
        "migrate",
        help="create or upgrade the audit log's schema"
        " (GATEWAY_DATABASE_URL, else GATEWAY_AUDIT__SQLITE_PATH)",
    )
    audit = commands.add_parser("audit", help="print the audit log of create and revoke attempts")
    audit.add_argument("--since", help="only records at or after this ISO 8601 time (naive: UTC)")
    audit.add_argument("--caller", help="only this caller's records")
    audit.add_argument("--email", help="only records for this email address (any case)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "check-config":
        return _check_config(timeout=args.timeout, log_level=args.log_level)

    if args.command == "migrate":
        from .audit.commands import migrate_command

        return migrate_command(os.environ, out=sys.stdout, err=sys.stderr)

    if args.command == "audit":
        from .audit.commands import audit_command

        return audit_command(
            os.environ,
            since=args.since,
            caller=args.caller,
            email=args.email,
            as_json=args.json,
            out=sys.stdout,
            err=sys.stderr,
        )

    if args.command == "api-key":
        from .callers.api_keys import entry_for, new_api_key

        key = new_api_key()
        try:
            entry = entry_for(args.name, key)
        except ValueError as exc:
            print(f"{PROGRAM}: {exc}", file=sys.stderr)
            return 2
        # stdout: the key, shown this once (only its hash is kept); stderr: how to use it.
        print(key)
        print(
            f"\nGive the key above to the caller named {args.name!r} (it is shown only once),"
            " and add this entry to the file GATEWAY_AUTH__API_KEYS_FILE names:\n\n"
            f"{entry}",
            file=sys.stderr,
        )
        return 0

    if args.command == "export-schema":
        from .schema import schema_sdl

        sdl = schema_sdl()
        if args.output:
            args.output.write_text(sdl, encoding="utf-8")
        else:
            sys.stdout.write(sdl)
        return 0

    _configure_logging(args)
    app: ASGIApp  # the gateway (a FastAPI app) or, for `emulate`, the emulators
    if args.command == "sandbox":
        from .sandbox import create_sandbox_app

        app = create_sandbox_app()
        print(
            f"invitation-gateway sandbox: GraphiQL at http://{args.host}:{args.port}/graphql",
            file=sys.stderr,
        )
    elif args.command == "emulate":
        from .emulators.serve import create_emulator_server

        # Clients cannot connect to a wildcard address: name loopback in what we print.
        public = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
        public = f"[{public}]" if ":" in public else public
        server = create_emulator_server(public_host=f"{public}:{args.port}")
        # stdout: the credentials are the command's output (`NAME=value` lines a shell can use)
        print(server.banner(f"http://{public}:{args.port}"), flush=True)
        app = server.app
    elif args.workers > 1:
        _gateway_app()  # configuration errors now, once, not in every worker
        _share_metrics_between_workers()
        import uvicorn

        # Each worker builds its own app (and its pools) from the same environment.
        uvicorn.run(
            f"{__name__}:_worker_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_config=None,  # our logging, configured again in each worker by the factory
            access_log=False,  # the gateway logs each request itself
            proxy_headers=False,
        )
        return 0
    else:
        app = _gateway_app()

    import uvicorn

    settle_memory()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return 0


def _worker_app() -> ASGIApp:
    """uvicorn's factory in each worker process of `serve --workers N`."""
    from .telemetry.logs import configure_logging

    log = _settings().log
    configure_logging(log.format or "json", log.level)
    app = _gateway_app()
    settle_memory()
    return app


def _gateway_app() -> ASGIApp:
    """`serve`'s app from the environment."""
    from .app import create_app
    from .diagnostics import store_url_problems
    from .settings import MISSING_UPSTREAM

    settings = _settings()
    if not settings.configured_upstreams:
        raise ConfigurationError(MISSING_UPSTREAM)
    if problems := store_url_problems(settings):  # before the lifespan opens the stores
        raise ConfigurationError("\n".join(problems))
    return _StartupErrors(create_app(settings))  # ConfigurationError: reported by `main`


def _configure_logging(args: argparse.Namespace) -> None:
    """JSON lines for `serve`, readable ones for the sandbox and emulators, unless configured."""
    from .telemetry.logs import configure_logging

    log = _settings().log
    fmt = log.format or ("json" if args.command == "serve" else "console")
    configure_logging(fmt, (args.log_level or log.level).upper())


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


# Young collections every 50,000 allocations instead of 700 (measured: README "Performance").
GC_THRESHOLDS = (50_000, 20, 100)


def _settings() -> Settings:
    """The settings from the environment; `ConfigurationError`, one line per bad variable."""
    from .settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        # Say which variable and why, never the value: it may be a secret.
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            location = "__".join(str(part).upper() for part in error["loc"])
            where = f"GATEWAY_{location}: " if location else ""
            lines.append(f"{where}{error['msg']}")
        raise ConfigurationError("\n".join(lines)) from None


def _check_config(*, timeout: float, log_level: str | None) -> int:
    """`check-config`: one line per part on stdout; a one-line verdict on stderr if any failed."""
    from .diagnostics import configuration_failure, diagnose

    # The checks' own lines say what failed; the gateway's log would say it again, noisily.
    logging.basicConfig(
        level=log_level.upper() if log_level else logging.CRITICAL,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = _settings()
    except ConfigurationError as exc:
        report = configuration_failure(str(exc))
    else:
        report = asyncio.run(diagnose(settings, environ=os.environ, budget=timeout))
    for line in report.lines():
        print(line)
    if not report.ok:
        print(
            f"{PROGRAM}: check-config: {report.failures} of {len(report.results)} parts failed",
            file=sys.stderr,
        )
    return report.exit_status


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
        return f"{PROGRAM}: configuration error: {_one_line(exc)}"
    if isinstance(exc, OSError):
        return f"{PROGRAM}: cannot start: {_one_line(exc)}"
    return f"{PROGRAM}: {_one_line(exc)}"  # StartupError: "cannot start: <store> ..."


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
