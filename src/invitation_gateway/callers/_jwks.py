"""The issuer's JWKS document: fetched with the app's httpx client, parsed into signing keys.

Each usable key is bound once to every allowed algorithm its type (and curve) fits, and only to
its own `alg` when it declares one, so a token can never pick how its key is read. Keys that are
not for signatures, carry private parts, or cannot be loaded are skipped; a document with no
usable key at all counts as unavailable, and the keys cached before it stay in use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx
import jwt
from jwt import PyJWK

MAX_JWKS_BYTES = 512 * 1024

ALGORITHMS: Mapping[str, tuple[str, frozenset[str] | None]] = MappingProxyType(
    {
        **{f"{family}{bits}": ("RSA", None) for family in ("RS", "PS") for bits in (256, 384, 512)},
        "ES256": ("EC", frozenset({"P-256"})),
        "ES384": ("EC", frozenset({"P-384"})),
        "ES512": ("EC", frozenset({"P-521"})),
        "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
    }
)
"""The accepted algorithms (asymmetric only) -> the JWK `kty` and `crv` values (None: any) each needs."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One JWKS key, bound to each algorithm it may verify."""

    kid: str | None
    by_alg: Mapping[str, PyJWK]


class JwksUnavailable(Exception):
    """The JWKS could not be fetched or holds no usable key; `str()` says why, for the log."""


async def fetch_jwks(
    http: httpx.AsyncClient, url: str, *, fetch_timeout: float
) -> tuple[SigningKey, ...]:
    """The signing keys served at `url`; JwksUnavailable on any failure."""
    body = bytearray()
    try:
        async with http.stream(
            "GET", url, headers={"Accept": "application/json"}, timeout=fetch_timeout
        ) as response:
            if response.status_code != httpx.codes.OK:
                raise JwksUnavailable(f"HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksUnavailable(f"larger than {MAX_JWKS_BYTES} bytes")
    except httpx.HTTPError as error:
        raise JwksUnavailable(type(error).__name__) from None
    try:
        document = json.loads(body)
    except ValueError:
        raise JwksUnavailable("not JSON") from None
    return parse_jwks(document)


def parse_jwks(document: object) -> tuple[SigningKey, ...]:
    """The usable signing keys of a JWKS document; JwksUnavailable when there are none."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksUnavailable('not a JWKS (no "keys" list)')
    keys: list[SigningKey] = []
    for jwk in entries:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig" or "d" in jwk:
            continue  # an encryption key, or a private key a JWKS must never publish
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        by_alg: dict[str, PyJWK] = {}
        for alg, (kty, curves) in ALGORITHMS.items():
            if jwk.get("kty") != kty or jwk.get("alg", alg) != alg:
                continue
            if curves is not None and jwk.get("crv") not in curves:
                continue
            try:
                by_alg[alg] = PyJWK(jwk, algorithm=alg)
            except jwt.PyJWTError:
                continue  # malformed key material
        if by_alg:
            keys.append(SigningKey(kid, MappingProxyType(by_alg)))
    if not keys:
        raise JwksUnavailable("no usable signing key")
    return tuple(keys)
