"""ConductorOne client credentials: the client id, the client secret, the signed assertion.

Follows `shared/upstream/conductorone-notes.md` §5.1 and §5.2, which read C1's own SDKs: the
client id `<random>@<host>/<use case>` names the tenant host; the client secret
`secret-token:conductorone.com:v1:<base64url JWK>` holds an Ed25519 private key, which signs a
short-lived client assertion (a compact JWS). Errors name the variable and the expected shape,
never the secret or any part of it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CLIENT_ID_VARIABLE = "GATEWAY_CONDUCTORONE__CLIENT_ID"
CLIENT_SECRET_VARIABLE = "GATEWAY_CONDUCTORONE__CLIENT_SECRET"  # noqa: S105 - a variable name
TOKEN_PATH = "/auth/v1/token"  # noqa: S105 - a URL path
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ASSERTION_LIFETIME = 120
"""Seconds either side of now for the assertion's `exp`/`nbf`, as the Go SDK signs them (§5.2);
C1 refuses an `exp` more than five minutes ahead (DOC-AUTH)."""


_SECRET_PREFIX = ("secret-token", "conductorone.com", "v1")
_SECRET_SHAPE = "secret-token:conductorone.com:v1:<base64url of an Ed25519 private JWK>"  # noqa: S105 - a description
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def parse_client_id(client_id: str) -> str:
    """The tenant host (maybe with a port) a client id names: `<random>@<host>/<use case>`.

    Split on the first `@`, then the first `/`, like the Go SDK's `ParseClientID` (§5.1). Its
    further "normalization" of the host is not described in the notes (UNVERIFIED): here the
    host is only lower-cased.
    """
    name, at, rest = client_id.partition("@")
    host, slash, use_case = rest.partition("/")
    if not (name and at and host and slash and use_case) or not _is_host(host):
        raise ValueError(
            f"{CLIENT_ID_VARIABLE} must be a ConductorOne client id, <name>@<tenant host>/<use>, "
            "e.g. strange-hydra-68836@acme.conductor.one/pcc"
        )
    return host.lower()


def check_client_credentials(client_id: str, client_secret: str) -> str:
    """The tenant host the client id names, once both have the shapes C1 issues (ValueError
    naming the variable otherwise, never its value): checked at start-up, not at first use."""
    host = parse_client_id(client_id)
    parse_client_secret(client_secret)
    return host


def parse_client_secret(secret: str) -> jwt.PyJWK:
    """The Ed25519 signing key in a client secret `secret-token:conductorone.com:v1:<JWK>`.

    Lenient where the SDKs disagree (§5.1): padding `=` is accepted and re-added as needed. Strict
    where they agree: the key must be an OKP Ed25519 *private* key whose `x` is `d`'s public key.
    Any failure is a ValueError that names the variable and the expected shape, never the value.
    """
    parts = secret.strip().split(":", 3)
    # The Go SDK checks only the `v1` part; the Python and TypeScript SDKs also check the first
    # two (§5.1). All three agree on the documented prefix, so anything else is refused.
    if len(parts) != 4 or tuple(parts[:3]) != _SECRET_PREFIX:
        raise _secret_error("it does not start with secret-token:conductorone.com:v1:")
    jwk = _decode_jwk(parts[3])
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise _secret_error("its key is not an Ed25519 (OKP) key")
    d, x = _key_bytes(jwk.get("d")), _key_bytes(jwk.get("x"))
    if d is None:
        raise _secret_error("its key is a public key only (no private part `d`)")
    if x is None:
        raise _secret_error("its key has no valid public part `x`")
    try:
        private = Ed25519PrivateKey.from_private_bytes(d)
    except ValueError:
        raise _secret_error("its private part `d` is not an Ed25519 private key") from None
    if private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != x:
        raise _secret_error("its public part `x` does not belong to its private part `d`")
    if not isinstance(jwk.get("kid", ""), str):
        raise _secret_error("its key id `kid` is not a string")
    try:
        return jwt.PyJWK(jwk, algorithm="EdDSA")
    except (jwt.PyJWTError, ValueError, TypeError):
        # PyJWK's own messages include the JWK, private part and all: never pass them on.
        raise _secret_error("its key was refused by the JOSE library") from None


def client_assertion(client_id: str, key: jwt.PyJWK, audience_host: str, now: float) -> str:
    """The signed client assertion, a compact JWS built exactly as the Go SDK builds it (§5.2).

    Protected header `{"alg":"EdDSA","nonce":"<32 lowercase hex>"}` (plus `kid` when the JWK has
    one; no `typ`); claims `iss` = `sub` = the client id, `aud`, `exp` = now + 120,
    `nbf` = now - 120, `iat` = now, no `jti`.
    """
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        # C1's clients disagree on the shape (§5.2.4): the Go and TypeScript SDKs send an array,
        # the Python SDK (and very likely c1i) a string, so the server takes both. We send the
        # Go SDK's array. The audience never carries a port, even when the token host does.
        "aud": [without_port(audience_host)],
        "exp": issued + ASSERTION_LIFETIME,
        "nbf": issued - ASSERTION_LIFETIME,
        "iat": issued,
    }
    # go-jose puts the nonce (hex of 16 random bytes, xjwt.RandomNonce) in the protected header;
    # PyJWT adds `typ: JWT` unless told not to, and go-jose sets no `typ`.
    header: dict[str, Any] = {"typ": None, "nonce": secrets.token_hex(16)}
    if key.key_id:
        header["kid"] = key.key_id
    return jwt.encode(claims, key, algorithm="EdDSA", headers=header)


def _secret_error(reason: str) -> ValueError:
    # `reason` is fixed text chosen by the caller, never derived from the secret.
    return ValueError(
        f"{CLIENT_SECRET_VARIABLE} must be a ConductorOne client secret, {_SECRET_SHAPE}: {reason}"
    )


def _decode_jwk(encoded: str) -> dict[str, Any]:
    # Go decodes unpadded base64url only and Python padded only (§5.1): strip any `=` and re-pad.
    encoded = encoded.rstrip("=")
    if not _BASE64URL.fullmatch(encoded):
        raise _secret_error("its last part is not base64url")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise _secret_error("its last part is not base64url") from None
    try:
        jwk = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _secret_error("its last part does not decode to a JSON JWK") from None
    if not isinstance(jwk, dict):
        raise _secret_error("its last part does not decode to a JSON JWK")
    return jwk


def _key_bytes(value: object) -> bytes | None:
    """A 32-byte Ed25519 key part from unpadded base64url, or None."""
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _is_host(host: str) -> bool:
    if "@" in host or any(char.isspace() for char in host):
        return False
    try:
        parts = urlsplit(f"https://{host}")
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return bool(parts.hostname) and parts.netloc == host and not (parts.path or parts.query)


def without_port(host: str) -> str:
    """`acme.conductor.one:8443` -> `acme.conductor.one` ("the audience never expects a port")."""
    hostname = urlsplit(f"https://{host}").hostname
    return hostname if hostname else host
