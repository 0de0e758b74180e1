"""Bearer JWTs (e.g. Clerk session tokens) verified against the issuer's JWKS.

Only asymmetric algorithms are accepted (`ALGORITHMS`): `none` and HS* are refused from the
unverified header, before any key lookup, so a public key can never serve as an HMAC secret. Each
JWKS key is bound to the algorithms its type (and curve) allows, and to its own `alg` when it
declares one; PyJWT then refuses a token whose `alg` differs from its key's. Keys embedded in or
pointed to by the token (`jwk`, `jku`, `x5u`) are never used.

The JWKS is fetched with the app's httpx client, one fetch in flight at a time, and cached by
`kid` for `cache_ttl`. An unknown `kid` (a rotated key) refetches it, at most once per
`min_refetch_interval`, and so does every later attempt after a failure. When the JWKS cannot be
fetched, the cached keys keep working (stale or not); a token whose `kid` they do not hold, or any
token before a first successful fetch, is refused ("keys unavailable"), and verification recovers
by itself at the first fetch after the JWKS is back (at most `min_refetch_interval` later).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK

from ._jwks import ALGORITHMS, JwksUnavailable, SigningKey, fetch_jwks
from .errors import Unauthenticated, UnauthenticatedReason
from .identity import Caller

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 8192
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_MISSING_CLAIM: Mapping[str, UnauthenticatedReason] = {
    "exp": "missing exp",
    "iss": "wrong issuer",
    "aud": "wrong audience",
}


def validate_jwks_url(url: str) -> str:
    """`url` if it is https, or http on a loopback host; ValueError (without the URL) otherwise."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError("the JWKS URL must not carry credentials")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the JWKS URL must be an absolute https URL")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _is_loopback(host):
        return url
    raise ValueError("the JWKS URL must use https (http only for 127.0.0.1, ::1 or localhost)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return str(ipaddress.ip_address(host)) in LOOPBACK_HOSTS
    except ValueError:
        return False


MIN_REFETCH_INTERVAL = 30.0  # seconds between two JWKS fetches, however many kids are unknown
VERIFIED_FOR = 60.0  # seconds a verified token is trusted again without its signature checked
VERIFIED_MAX = 10_000  # tokens remembered at most


class JwtVerifier:
    """Verifies bearer JWTs against a JWKS URL; `verify` returns the caller or raises."""

    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str | None,
        audience: Sequence[str] = (),
        authorized_parties: Sequence[str] = (),
        http: httpx.AsyncClient,
        leeway: float = 30,
        clock: Callable[[], float] = time.monotonic,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL,
        cache_ttl: float = 600,
        fetch_timeout: float = 5,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._jwks_url = validate_jwks_url(jwks_url)
        self._issuer = issuer or None
        self._audience = list(audience) or None
        self._authorized_parties = tuple(authorized_parties)
        self._http = http
        self._leeway = leeway
        self._clock = clock
        self._min_refetch_interval = min_refetch_interval
        self._cache_ttl = cache_ttl
        self._fetch_timeout = fetch_timeout
        self._required = ["exp", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
        self._keys: tuple[SigningKey, ...] = ()
        self._loaded_at: float | None = None  # when the cached keys were fetched
        self._attempted_at: float | None = None  # when the last fetch started
        self._attempts = 0  # fetches finished: a waiter that sees it move skips its own
        self._last_failed = False
        self._lock = asyncio.Lock()
        self._wall_clock = wall_clock
        # Token -> its caller, its expiry (wall clock, with the leeway), and until when (this
        # verifier's clock) it is trusted without being verified again.
        self._verified: dict[str, tuple[Caller, float, float]] = {}

    async def verify(self, token: str) -> Caller:
        """The caller a valid token names (`jwt:<sub>`); Unauthenticated(reason) otherwise.

        A browser sends the same token with every request until it expires, and checking its
        signature was a third of a request's CPU (README "Performance"). So a token verified
        once is trusted again, without its signature being checked, until it expires (with
        the same leeway), for at most `VERIFIED_FOR` seconds, and never past the refetch of
        the key set it was verified with.
        """
        known = self._verified.get(token)
        if known is not None:
            caller, expires, trusted_until = known
            if self._wall_clock() <= expires and self._clock() < trusted_until:
                return caller
            del self._verified[token]
        caller, exp = await self._verify(token)
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()  # a bound, not an LRU: refilled by the next requests
        # Never trusted longer than the key set it was verified with is fresh: a key withdrawn
        # from the JWKS stops verifying when the set is refetched, cached tokens or not.
        fresh_until = (self._loaded_at or 0.0) + self._cache_ttl
        trusted_until = min(self._clock() + VERIFIED_FOR, fresh_until)
        self._verified[token] = (caller, exp + self._leeway, trusted_until)
        return caller

    async def _verify(self, token: str) -> tuple[Caller, float]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed token") from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or not (kid is None or isinstance(kid, str)):
            raise Unauthenticated("malformed token")
        if alg not in ALGORITHMS:
            raise Unauthenticated("unsupported algorithm")
        claims = self._decode(token, await self._key_for(kid, alg), alg)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("missing subject")
        if self._authorized_parties and claims.get("azp") not in self._authorized_parties:
            raise Unauthenticated("unauthorized party")
        return Caller("jwt", subject, MappingProxyType(claims)), float(claims["exp"])

    def _decode(self, token: str, key: PyJWK, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": self._required, "enforce_minimum_key_length": True},
            )
        except jwt.InvalidSignatureError:  # before DecodeError, its parent
            raise Unauthenticated("bad signature") from None
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("expired") from None
        except jwt.ImmatureSignatureError:  # nbf (or iat) ahead, beyond the leeway
            raise Unauthenticated("not yet valid") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(_MISSING_CLAIM.get(error.claim, "malformed token")) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("wrong audience") from None
        except jwt.exceptions.InvalidSubjectError:  # a non-string sub
            raise Unauthenticated("missing subject") from None
        except jwt.InvalidKeyError:  # e.g. an RSA key shorter than 2048 bits
            raise Unauthenticated("unknown key") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated("unsupported algorithm") from None
        except jwt.PyJWTError:  # undecodable payload, non-numeric exp, bad crit header...
            raise Unauthenticated("malformed token") from None

    async def _key_for(self, kid: str | None, alg: str) -> PyJWK:
        """The one cached key for (kid, alg), refetching the JWKS when it is stale or lacks kid."""
        # Stale keys still verify while another caller refreshes them: don't queue behind it.
        if self._stale() and not (self._keys and self._lock.locked()):
            await self._refresh()
        key = self._select(kid, alg)
        if key is None and kid is not None and not self._knows(kid):
            await self._refresh()  # a rotated key, perhaps
            key = self._select(kid, alg)
        if key is not None:
            return key
        if not self._keys or (self._last_failed and kid is not None and not self._knows(kid)):
            raise Unauthenticated("keys unavailable")
        raise Unauthenticated("unknown key")

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock() - self._loaded_at >= self._cache_ttl

    def _select(self, kid: str | None, alg: str) -> PyJWK | None:
        """The key for (kid, alg) when exactly one matches; without kid, the only one for alg."""
        found = [k.by_alg[alg] for k in self._keys if alg in k.by_alg and kid in (None, k.kid)]
        return found[0] if len(found) == 1 else None

    def _knows(self, kid: str) -> bool:
        return any(key.kid == kid for key in self._keys)

    async def _refresh(self) -> None:
        """Fetch the JWKS unless another caller just did, or the last attempt is too recent."""
        seen = self._attempts
        async with self._lock:
            if self._attempts != seen:
                return  # fetched while we waited for the lock
            now = self._clock()
            if (
                self._attempted_at is not None
                and now - self._attempted_at < self._min_refetch_interval
            ):
                return
            previous, self._attempted_at = self._attempted_at, now
            try:
                keys = await fetch_jwks(
                    self._http, self._jwks_url, fetch_timeout=self._fetch_timeout
                )
            except JwksUnavailable as error:
                self._last_failed = True
                logger.warning("JWKS unavailable from %s: %s", self._jwks_url, error)
            except BaseException:
                self._attempted_at = previous  # cancelled mid-fetch: the next caller tries now
                raise
            else:
                self._keys, self._loaded_at, self._last_failed = keys, self._clock(), False
            self._attempts += 1
