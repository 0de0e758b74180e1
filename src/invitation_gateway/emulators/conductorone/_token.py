"""The ConductorOne emulator's token endpoint: OAuth client credentials with a signed assertion.

`POST /auth/v1/token` (conductorone-notes.md §5.3) takes a form with `grant_type`,
`client_assertion_type`, `client_id` and `client_assertion`, a compact JWS signed with the
client's Ed25519 key (§5.2). It checks what DOC-AUTH says C1 checks: the signature, iss = sub =
the client id, `aud` naming the tenant host (a string or an array, as C1's own clients send both),
and an `exp` that is in the future and at most five minutes ahead. It answers
`{"access_token", "token_type": "Bearer", "expires_in"}` (§5.4).

Only the public key of each client is kept. The nonce is not checked: the Go SDK puts it in the
protected header and the Python SDK in the claims, and C1 takes both (§5.2.5).

C1's error body for this endpoint is NOT FOUND in the notes (§5.4, §7.6): every refusal here is a
401 with the API's google.rpc.Status body (code 16, UNAUTHENTICATED), and the messages are ours.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from invitation_gateway.emulators._common import RecordedRequest
from invitation_gateway.emulators.conductorone._wire import UNAUTHENTICATED, RpcError

TOKEN_PATH = "/auth/v1/token"  # noqa: S105 - a URL path
DEFAULT_HOST = "conductorone.sandbox"
DEFAULT_TOKEN_TTL_SECONDS = 600  # the DOC-AUTH example's `expires_in` (§5.4)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 300  # DOC-AUTH: "exp … must be within five minutes of the current time"
CLOCK_SKEW = 30  # seconds of `nbf` in the future tolerated; C1's own tolerance is UNVERIFIED
ClientKey = Ed25519PublicKey | Ed25519PrivateKey | Mapping[str, Any]
"""A client's key as `register_client` takes it: a key, or its JWK (only `x` is kept)."""
_FIELDS = ("grant_type", "client_assertion_type", "client_id", "client_assertion")


class TokenEndpoint:
    """Registered clients (public keys only), the tokens issued to them, and the endpoint."""

    def __init__(self, *, host: str, now: Callable[[], datetime]) -> None:
        self.host = host
        self.ttl_seconds = DEFAULT_TOKEN_TTL_SECONDS
        self.clients: dict[str, Ed25519PublicKey] = {}
        self.issued: dict[str, datetime] = {}  # access token -> when it expires
        self._now = now

    @property
    def audience(self) -> str:
        """The host without any port: "the audience never expects a port" (Go SDK, §5.2)."""
        return urlsplit(f"//{self.host}").hostname or self.host

    def register_client(self, client_id: str, key: ClientKey) -> None:
        """Accept assertions from `client_id` signed by `key` (a key or JWK; only `x` is kept)."""
        if isinstance(key, Ed25519PrivateKey):
            key = key.public_key()
        if not isinstance(key, Ed25519PublicKey):
            key = _public_key_from_jwk(key)
        self.clients[client_id] = key

    def create_client(self, name: str) -> tuple[str, str]:
        """A new client `<name>@<host>/pcc` and its secret, in C1's formats (§5.1)."""
        private = Ed25519PrivateKey.generate()
        jwk = {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
            "d": _b64(private.private_bytes_raw()),
        }
        client_id = f"{name}@{self.host}/pcc"
        self.register_client(client_id, private)  # the server side keeps the public key only
        secret = "secret-token:conductorone.com:v1:" + _b64(
            json.dumps(jwk, separators=(",", ":")).encode()
        )
        return client_id, secret

    def accepts(self, token: str) -> bool:
        expires_at = self.issued.get(token)
        return expires_at is not None and self._now() < expires_at

    def expire_all(self) -> None:
        now = self._now()
        for token in self.issued:
            self.issued[token] = now

    def reset(self) -> None:
        # Registered clients stay: they are credentials, like the emulator's static token, and a
        # running sandbox holds a secret minted for one of them.
        self.issued.clear()
        self.ttl_seconds = DEFAULT_TOKEN_TTL_SECONDS

    def public_jwks(self) -> dict[str, dict[str, str]]:
        return {
            client_id: {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw)),
            }
            for client_id, key in self.clients.items()
        }

    def handle(self, request: RecordedRequest, params: Mapping[str, str]) -> Any:
        form = _form(request)
        if form.get("grant_type") != "client_credentials":
            raise _refused("grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise _refused(f"client_assertion_type must be {ASSERTION_TYPE}")
        client_id = form.get("client_id", "")
        key = self.clients.get(client_id)
        if key is None:
            raise _refused("unknown client")
        self._verify(form.get("client_assertion", ""), client_id, key)
        now = self._now()
        # A long-running sandbox should not grow without bound: forget tokens already expired.
        for token in [token for token, expires in self.issued.items() if expires <= now]:
            del self.issued[token]
        token = secrets.token_urlsafe(32)
        self.issued[token] = now + timedelta(seconds=self.ttl_seconds)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl_seconds}

    def _verify(self, assertion: str, client_id: str, key: Ed25519PublicKey) -> None:
        try:
            # Signature only (PyJWS, not PyJWT): the claims are checked below on our clock.
            signed = jwt.PyJWS().decode_complete(assertion, key, algorithms=["EdDSA"])
            claims = json.loads(signed["payload"])
        except (jwt.PyJWTError, ValueError):
            raise _refused("client_assertion is not a JWS signed by this client's key") from None
        if signed["header"].get("alg") != "EdDSA" or not isinstance(claims, dict):
            raise _refused("client_assertion must be an EdDSA-signed JWT")
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise _refused("client_assertion iss and sub must be the client id")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise _refused("client_assertion aud must name the tenant host")
        now = self._now().timestamp()
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if not _is_number(expires) or not now < expires <= now + MAX_ASSERTION_LIFETIME:
            raise _refused("client_assertion exp must be within five minutes of now")
        if not_before is not None and (not _is_number(not_before) or not_before > now + CLOCK_SKEW):
            raise _refused("client_assertion is not valid yet (nbf)")


def _form(request: RecordedRequest) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise _refused("the token request must be application/x-www-form-urlencoded")
    try:
        fields = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise _refused("the token request is not UTF-8") from None
    # RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
    if any(len(fields.get(name, [])) > 1 for name in _FIELDS):
        raise _refused("a token request parameter is repeated")
    return {name: values[0] for name, values in fields.items()}


def _public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise ValueError("a client key must be an Ed25519 OKP JWK with `x`")
    encoded = jwk["x"]
    return Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    )


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _refused(message: str) -> RpcError:
    return RpcError(UNAUTHENTICATED, message)
