"""What the JWT tests share: signing keys, and a real JWKS endpoint on 127.0.0.1.

`JwksServer` is a `http.server` in a thread, serving whatever `keys` hold at the time of each
request, counting the requests, and answering `status` (503: the JWKS is down) when told to.
`Signer` holds a private key, its `kid` and algorithm, and mints tokens with it; `forge` builds a
token by hand, for headers and signatures no honest library would produce.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class Signer:
    """A private key, named by `kid`, signing with `alg`."""

    kid: str | None
    alg: str
    key: PrivateKey
    jwk_extra: Mapping[str, str] = field(default_factory=dict)  # e.g. {"alg": "RS256"}

    def jwk(self) -> dict[str, Any]:
        """The public JWK a JWKS serves for this key."""
        public = self.key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        if self.kid is not None:
            jwk["kid"] = self.kid
        return {**jwk, "use": "sig", **self.jwk_extra}

    def token(
        self, claims: Mapping[str, Any], *, alg: str | None = None, kid: str | None = None
    ) -> str:
        """`claims` signed by this key; `alg` and `kid` override the header's."""
        headers = {"kid": kid or self.kid} if (kid or self.kid) else {}
        return jwt.encode(dict(claims), self.key, algorithm=alg or self.alg, headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for the tests' issuer, relative to now; `None` values remove a claim."""
    now = int(time.time())
    base = {"sub": "user_2abc", "iss": ISSUER, "iat": now, "nbf": now - 5, "exp": now + 300}
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


ISSUER = "https://clerk.example.test"


def forge(header: Mapping[str, Any], payload: Mapping[str, Any], signature: bytes = b"") -> str:
    """A compact JWS with exactly this header, payload and signature."""
    return ".".join(_b64(part) for part in (_json(header), _json(payload), signature))


def signing_input(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    return f"{_b64(_json(header))}.{_b64(_json(payload))}".encode()


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client gave up mid-answer (a verifier's timeout against `delay`)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class JwksServer:
    """A JWKS endpoint whose keys, status and latency the test changes between requests."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.body: bytes | None = None  # when set, served verbatim instead of the keys
        self.status = 200
        self.delay = 0.0
        self.fetches = 0
        self.requested = threading.Event()  # set by the first request
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def serve(self, *signers: Signer) -> None:
        self.keys = [signer.jwk() for signer in signers]

    @contextmanager
    def running(self) -> Iterator[JwksServer]:
        # A short poll interval: shutdown() waits for the serving loop's next look.
        thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.fetches += 1
                server.requested.set()
                time.sleep(server.delay)
                body = server.body or json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
