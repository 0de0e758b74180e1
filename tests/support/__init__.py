"""What the tests share besides fixtures: the public test-support package.

```
support/
  gateway.py                 GatewayClient (GraphQL over HTTP), app_client (the app, lifespan on)
  documents.py               the GraphQL documents tests send (CREATE, REVOKE, CONNECTIONS...)
  clock.py                   FIXED_NOW, the instant dated tests run at, and a manual clock there
  servers.py                 serve an ASGI app on a loopback port; refusing and black-holed ports
  conductorone_token_rig.py  ConductorOne's OAuth client on the emulator, one manual clock for both
  conductorone_spec.py       strict models of ConductorOne's local-directory answers, from its spec
  jwks_server.py             a JWKS endpoint and signed (or forged) JWTs
  replicas.py                two stores or limiters on one backend, as two replicas see it
  idempotency.py             idempotency store helpers
  databases.py               PostgreSQL for the tests: reach it, run statements from sync code
  logs.py                    the log lines as `serve` renders them (JSON), captured for a test
  audit.py                   AuditBackend (where audit records are, as env vars), reading them back
  upstream_tap.py            a transport noting each upstream exchange's request id; holds requests
  limits.py                  rate limiters on one set of buckets, opened as several replicas
  lost_answers.py            the lost-answer tests' target kinds, faults, gateways on real sockets
  observed.py                a gateway under observation: its client, sandbox and finished spans
  outcomes.py                pytest plugin: --outcomes=PATH writes each test's outcome (CI compares)
  tcp_proxy.py               a store that goes away while the gateway runs: a proxy to cut
  secured.py                 the gateway with authentication enforced, the security tests' policy
```

Tests import these modules by name (`from tests.support.gateway import GatewayClient`); fixtures
stay in the `conftest.py` files, which import from here too. Emulators come from their public
packages (`invitation_gateway.emulators`, `.emulators.clerk`, `.emulators.conductorone`).
"""
