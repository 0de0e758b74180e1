"""Real sockets: an ASGI app behind uvicorn on a loopback port, and broken endpoints.

Timeouts, refused connections and slow bodies only happen on a real network path, and the
vendors' SDKs open their own HTTP clients, so the reliability, emulator-fault and SDK tests
serve the emulators on loopback ports instead of through in-process transports.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    """A loopback port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on a loopback port in a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def refusing() -> Iterator[str]:
    """A loopback address where nothing listens: every connection is refused."""
    yield f"http://127.0.0.1:{free_port()}"


@contextmanager
def blackhole() -> Iterator[str]:
    """A loopback port that never completes a connection (a full accept queue): connects time out.

    A listening socket with backlog 0 that never accepts holds one queued connection; once
    that is taken, Linux drops further SYNs, so a new connect hangs until the client gives up.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
