"""The servers under test, each its own process, and what /proc says about them.

The stub, the thin proxy and the gateway are started as subprocesses of the harness, each
logging to a file in the run's temporary directory; the gateway exactly as a user starts it,
`invitation-gateway serve --host 127.0.0.1 --port P`, configured by `GATEWAY_*` variables only.
CPU time (utime + stime) and resident memory (VmRSS) are read from /proc, so they cover the
server's threads too (the audit log's SQLite work runs in one) and cost the server nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
_TICKS = os.sysconf("SC_CLK_TCK")


class ServerFailed(RuntimeError):
    """A server did not start, or died; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One running server: its process, base URL and log file."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the whole process so far."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise ServerFailed(f"{self.name}: no VmRSS in /proc (has it exited?)")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerFailed(
                f"{self.name} exited with {self.process.returncode}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str,
    command: list[str],
    *,
    port: int,
    workdir: Path,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    ready_body: str | None = None,
) -> Server:
    """Start `command`, wait until `GET ready_path` answers 200 (containing `ready_body`)."""
    log = workdir / f"{name}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), environment.get("PYTHONPATH")])
    )
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own programs, fixed arguments
            command,
            cwd=workdir,
            env={**environment, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while True:
        server.check_alive()
        try:
            answer = httpx.get(server.url + ready_path, timeout=2)
            if answer.status_code == 200 and (ready_body is None or ready_body in answer.text):
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise ServerFailed(f"{name} did not become ready in 60 s\n{server.log_tail()}")
        time.sleep(0.1)


def start_stub(workdir: Path, jwks: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.create._stub", "--port", str(port)]
    return start(
        "stub",
        [*command, "--jwks", str(jwks)],
        port=port,
        workdir=workdir,
        ready_path="/__stub__/calls",
    )


def start_proxy(workdir: Path, upstream: str) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.create._proxy", "--port", str(port)]
    return start(
        "proxy",
        [*command, "--upstream", upstream],
        port=port,
        workdir=workdir,
        ready_path="/healthz",
    )


def start_gateway(name: str, workdir: Path, env: Mapping[str, str]) -> Server:
    port = free_port()
    command = str(Path(sys.executable).parent / "invitation-gateway")
    return start(
        name,
        [command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        port=port,
        workdir=workdir,
        env=env,
        ready_path="/readyz",
        ready_body='"status":"ready"',
    )


def stub_calls(stub: Server) -> int:
    """How many creates and revokes the stub has received so far."""
    counts = httpx.get(f"{stub.url}/__stub__/calls", timeout=5).json()
    return int(counts["creates"]) + int(counts["revokes"])
