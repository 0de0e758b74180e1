"""The `invitation-gateway` command: `serve`, `sandbox`, `emulate`, `export-schema`, `api-key`,
`migrate` and `audit`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from starlette.applications import Starlette


def main(argv: Sequence[str] | None = None) -> int:
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
            "--log-level", default="info", choices=["debug", "info", "warning", "error"]
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
    args = parser.parse_args(argv)

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
            print(f"invitation-gateway: {exc}", file=sys.stderr)
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

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up is not news
    app: Starlette  # the gateway (a FastAPI app) or, for `emulate`, the emulators
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
    else:
        from .app import create_app
        from .settings import MISSING_UPSTREAM, Settings

        try:
            settings = Settings()
        except ValidationError as exc:
            # Say which variable and why, never the value: it may be a secret.
            for error in exc.errors(include_input=False, include_url=False):
                location = "__".join(str(part).upper() for part in error["loc"])
                where = f"GATEWAY_{location}: " if location else ""
                print(
                    f"invitation-gateway: configuration error: {where}{error['msg']}",
                    file=sys.stderr,
                )
            return 2
        if not settings.configured_upstreams:
            print(f"invitation-gateway: {MISSING_UPSTREAM}", file=sys.stderr)
            return 2
        from .settings import ConfigurationError

        try:
            app = create_app(settings)
        except ConfigurationError as exc:
            # The variable, or the file and entry, and the problem; never a value.
            print(f"invitation-gateway: configuration error: {exc}", file=sys.stderr)
            return 2

    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
