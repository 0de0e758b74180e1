"""The `invitation-gateway` command: `serve`, `sandbox`, `emulate`, `check-config`,
`export-schema`, `api-key`, `migrate` and `audit`.

Errors a person can act on are one line on stderr and a non-zero exit, never a traceback:
configuration errors (exit 2: a variable or file, by name and line, never its value), a store
that cannot be reached at start-up (`StartupError`), a file or socket the system refuses
(`OSError`). In `serve` the stores are opened in the app's lifespan, inside uvicorn, so
`serving.py` turns those failures into one log line too. Anything else is a bug, and keeps its
traceback: hiding it would leave nothing to fix it from.

This module parses the arguments and dispatches; running the servers under uvicorn is
`serving.py`'s job.
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

from . import serving
from .serving import PROGRAM, load_settings, one_line
from .settings import ConfigurationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp


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
        print(f"{PROGRAM}: {one_line(exc)}", file=sys.stderr)
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

    settings = load_settings()
    serving.configure_command_logging(args.command, args.log_level, settings.log)
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
        serving.run_workers(settings, args.workers, host=args.host, port=args.port)
        return 0
    else:
        app = serving.gateway_app(settings)

    serving.run(app, host=args.host, port=args.port)
    return 0


def _check_config(*, timeout: float, log_level: str | None) -> int:
    """`check-config`: one line per part on stdout; a one-line verdict on stderr if any failed."""
    from .diagnostics import configuration_failure, diagnose

    # The checks' own lines say what failed; the gateway's log would say it again, noisily.
    logging.basicConfig(
        level=log_level.upper() if log_level else logging.CRITICAL,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
