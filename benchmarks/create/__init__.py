"""`scripts/bench create`: createInvitation throughput, as ratios to a stub and a thin proxy.

```
create/
  __main__.py    the command: options, the run, the report (python -m benchmarks.create)
  _run.py        one run: the servers in turn, warm-up, load, CPU, the soak's RSS
  _scenarios.py  what is measured: documents, request bodies, answer checks, scenario list
  _stub.py       the upstream stub (its own process): ConductorOne and Clerk happy paths, JWKS
  _proxy.py      the thin hand-written proxy (its own process): Starlette + aiohttp + orjson
  _processes.py  starting and stopping the three servers; CPU and RSS from /proc
  _auth.py       the enforced-auth set-up: a signing key, its JWKS, one JWT, a policy file
  _load.py       the load generators: wrk with _load.lua, or a Python (aiohttp) fallback
  _report.py     results, ratios, the Markdown table and the JSON file
```
"""
