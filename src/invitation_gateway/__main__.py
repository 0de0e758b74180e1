"""`python -m invitation_gateway` is the `invitation-gateway` command."""

from .cli import main

raise SystemExit(main())
