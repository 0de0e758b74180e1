"""JwtVerifier against a real JWKS endpoint on 127.0.0.1, and the Authenticator in front of it.

Tokens are built relative to `time.time()`; the verifier's cache and refetch limit run on a
manual monotonic clock, so "30 seconds later" is a statement, not a wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from invitation_gateway.callers.api_keys import ApiKeys, key_hash, new_api_key
from invitation_gateway.callers.authenticate import Authenticator
from invitation_gateway.callers.errors import Unauthenticated
from invitation_gateway.callers.jwt import JwtVerifier, validate_jwks_url
from tests.support.clock import FakeClock
from tests.support.jwks_server import ISSUER, JwksServer, Signer, claims, forge, signing_input

INTERVAL = 30.0
TTL = 600.0

Verifier = Callable[..., JwtVerifier]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def rsa_signer(rsa_key: rsa.RSAPrivateKey) -> Signer:
    return Signer("rsa-1", "RS256", rsa_key, {"alg": "RS256"})


@pytest.fixture
def ec_signer() -> Signer:
    return Signer("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def ed_signer() -> Signer:
    return Signer("ed-1", "EdDSA", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def server() -> Iterator[JwksServer]:
    with JwksServer().running() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make_verifier(server: JwksServer, http: httpx.AsyncClient, clock: FakeClock) -> Verifier:
    def make(**overrides: Any) -> JwtVerifier:
        options: dict[str, Any] = {
            "jwks_url": server.url,
            "issuer": ISSUER,
            "http": http,
            "clock": clock,
            "min_refetch_interval": INTERVAL,
            "cache_ttl": TTL,
            **overrides,
        }
        return JwtVerifier(**options)

    return make


async def refused(verifier: JwtVerifier, token: str) -> str:
    """The reason `verifier` refuses `token` (fails the test if it accepts it)."""
    with pytest.raises(Unauthenticated) as refusal:
        await verifier.verify(token)
    return refusal.value.reason


@pytest.mark.parametrize("which", ["rsa_signer", "ec_signer", "ed_signer"])
async def test_valid_tokens_of_each_key_type(
    which: str, request: pytest.FixtureRequest, server: JwksServer, make_verifier: Verifier
) -> None:
    """RSA, EC and Ed25519 keys served in one set each verify their tokens into a jwt caller."""
    signers = [request.getfixturevalue(name) for name in ("rsa_signer", "ec_signer", "ed_signer")]
    server.serve(*signers)
    signer: Signer = request.getfixturevalue(which)
    token_claims = claims(azp="https://app.example.test")

    caller = await make_verifier().verify(signer.token(token_claims))

    assert (caller.kind, caller.id) == ("jwt", "jwt:user_2abc")
    assert dict(caller.claims) == token_claims
    assert server.fetches == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"exp": None}, "missing exp"),
        ({"nbf": 300}, "not yet valid"),
        ({"iss": "https://evil.example.test"}, "wrong issuer"),
        ({"iss": None}, "wrong issuer"),
        ({"sub": None}, "missing subject"),
        ({"sub": ""}, "missing subject"),
        ({"exp": "tomorrow"}, "malformed token"),
    ],
)
async def test_bad_claims_are_refused(
    overrides: dict[str, Any],
    reason: str,
    server: JwksServer,
    rsa_signer: Signer,
    make_verifier: Verifier,
) -> None:
    """Expired, exp-less, not-yet-valid, foreign-issuer and subject-less tokens are refused."""
    server.serve(rsa_signer)
    now = claims()["iat"]
    # integers for exp and nbf are offsets from now
    dated = {
        name: now + value if name in ("exp", "nbf") and isinstance(value, int) else value
        for name, value in overrides.items()
    }
    assert await refused(make_verifier(), rsa_signer.token(claims(**dated))) == reason


async def test_leeway_absorbs_small_clock_skew(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """A token expired 10 s ago, or valid from 10 s ahead, passes with the 30 s leeway."""
    server.serve(rsa_signer)
    now = claims()["iat"]
    verifier = make_verifier()
    await verifier.verify(rsa_signer.token(claims(exp=now - 10)))
    await verifier.verify(rsa_signer.token(claims(nbf=now + 10)))


@pytest.mark.parametrize(
    ("aud", "reason"),
    [
        ("gateway", None),
        (["other", "gateway"], None),
        ("other", "wrong audience"),
        (None, "wrong audience"),
    ],
)
async def test_audience(
    aud: object, reason: str | None, server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """With an audience configured, the token's `aud` must name it."""
    server.serve(rsa_signer)
    verifier = make_verifier(audience=["gateway"])
    token = rsa_signer.token(claims(aud=aud))
    if reason is None:
        await verifier.verify(token)
    else:
        assert await refused(verifier, token) == reason


async def test_audience_claim_without_configured_audience(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """Without an audience configured, a token meant for some audience is refused (RFC 7519 4.1.3)."""
    server.serve(rsa_signer)
    assert await refused(make_verifier(), rsa_signer.token(claims(aud="other"))) == "wrong audience"


@pytest.mark.parametrize(
    ("azp", "reason"),
    [
        ("https://app.example.test", None),
        ("https://evil.example.test", "unauthorized party"),
        (None, "unauthorized party"),
    ],
)
async def test_authorized_parties(
    azp: str | None,
    reason: str | None,
    server: JwksServer,
    rsa_signer: Signer,
    make_verifier: Verifier,
) -> None:
    """With authorized parties configured, the token's `azp` must be one of them."""
    server.serve(rsa_signer)
    verifier = make_verifier(authorized_parties=["https://app.example.test"])
    token = rsa_signer.token(claims(azp=azp))
    if reason is None:
        assert (await verifier.verify(token)).claims["azp"] == azp
    else:
        assert await refused(verifier, token) == reason


async def test_alg_none_is_refused_before_any_key_lookup(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """An unsigned `alg: none` token is refused without even fetching the JWKS."""
    server.serve(rsa_signer)
    for alg in ("none", "None", "NONE"):
        token = forge({"alg": alg, "typ": "JWT", "kid": "rsa-1"}, claims())
        assert await refused(make_verifier(), token) == "unsupported algorithm"
    assert server.fetches == 0


async def test_hs256_keyed_with_the_rsa_public_key_is_refused(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """The algorithm-confusion attack: HS256 signed with the served public key's PEM fails."""
    server.serve(rsa_signer)
    pem = rsa_signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    mac = hmac.new(pem, signing_input(header, claims()), hashlib.sha256).digest()
    assert await refused(make_verifier(), forge(header, claims(), mac)) == "unsupported algorithm"
    assert server.fetches == 0


async def test_a_key_serves_only_the_algorithm_it_declares(
    server: JwksServer, rsa_signer: Signer, ec_signer: Signer, make_verifier: Verifier
) -> None:
    """A PS256 token for an `alg: RS256` key, or an ES384 one for a P-256 key, finds no key."""
    server.serve(rsa_signer, ec_signer)
    verifier = make_verifier()
    assert await refused(verifier, rsa_signer.token(claims(), alg="PS256")) == "unknown key"
    header = {"alg": "ES384", "kid": "ec-1"}
    assert await refused(verifier, forge(header, claims(), b"x" * 96)) == "unknown key"
    assert server.fetches == 1  # a known kid: no refetch


async def test_rsa_key_without_declared_alg_verifies_pss(
    server: JwksServer, rsa_key: rsa.RSAPrivateKey, make_verifier: Verifier
) -> None:
    """An RSA key that declares no `alg` verifies PS256 and RS512 tokens alike."""
    server.serve(Signer("rsa-any", "PS256", rsa_key))
    verifier = make_verifier()
    for alg in ("PS256", "RS512"):
        await verifier.verify(Signer("rsa-any", alg, rsa_key).token(claims()))


async def test_known_kid_signed_by_another_key(
    server: JwksServer,
    rsa_signer: Signer,
    other_rsa_key: rsa.RSAPrivateKey,
    make_verifier: Verifier,
) -> None:
    """A token naming a served kid but signed by another key has a bad signature."""
    server.serve(rsa_signer)
    impostor = Signer("rsa-1", "RS256", other_rsa_key)
    assert await refused(make_verifier(), impostor.token(claims())) == "bad signature"


async def test_tampered_payload_is_a_bad_signature(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """Changing the payload of a signed token breaks its signature."""
    server.serve(rsa_signer)
    header, _, signature = rsa_signer.token(claims()).split(".")
    payload = forge({}, claims(sub="user_admin")).split(".")[1]
    assert await refused(make_verifier(), f"{header}.{payload}.{signature}") == "bad signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a.b.c",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        forge({"alg": "RS256", "kid": 7}, {"sub": "x"}),
        forge({"kid": "rsa-1"}, {"sub": "x"}),
        "x" * 9000,
    ],
    ids=["empty", "one-part", "garbage", "two-parts", "kid-not-string", "no-alg", "oversize"],
)
async def test_malformed_tokens(
    token: str, server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """Tokens that do not parse as a JWS are malformed, and cost no JWKS fetch."""
    server.serve(rsa_signer)
    assert await refused(make_verifier(), token) == "malformed token"
    assert server.fetches == 0


async def test_undecodable_payload_is_malformed(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """A correctly signed token whose payload is not a JSON object is malformed."""
    server.serve(rsa_signer)
    token = jwt.api_jws.encode(
        b"[1, 2]", rsa_signer.key, algorithm="RS256", headers={"kid": "rsa-1"}
    )
    assert await refused(make_verifier(), token) == "malformed token"


async def test_kidless_token_needs_a_single_key_for_its_alg(
    server: JwksServer,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
    ec_signer: Signer,
    make_verifier: Verifier,
) -> None:
    """A token without kid verifies only when exactly one served key fits its algorithm."""
    lone = Signer(None, "RS256", rsa_key)
    server.serve(lone, ec_signer)
    await make_verifier().verify(lone.token(claims()))

    server.serve(lone, Signer(None, "RS256", other_rsa_key))
    assert await refused(make_verifier(), lone.token(claims())) == "unknown key"


async def test_rotated_key_is_fetched_once(
    server: JwksServer,
    rsa_signer: Signer,
    ec_signer: Signer,
    make_verifier: Verifier,
    clock: FakeClock,
) -> None:
    """A new kid in the served set is accepted without restart, after exactly one refetch."""
    server.serve(rsa_signer)
    verifier = make_verifier()
    await verifier.verify(rsa_signer.token(claims()))
    server.serve(rsa_signer, ec_signer)
    clock.advance(INTERVAL)

    await verifier.verify(ec_signer.token(claims()))
    await verifier.verify(ec_signer.token(claims()))
    await verifier.verify(rsa_signer.token(claims()))
    assert server.fetches == 2


async def test_removed_key_stops_verifying_after_the_ttl(
    server: JwksServer,
    rsa_signer: Signer,
    ec_signer: Signer,
    make_verifier: Verifier,
    clock: FakeClock,
) -> None:
    """Once the cache expires, the refetched set no longer holds a retired key."""
    server.serve(rsa_signer, ec_signer)
    verifier = make_verifier()
    await verifier.verify(rsa_signer.token(claims()))
    server.serve(ec_signer)
    clock.advance(TTL - 1)
    await verifier.verify(rsa_signer.token(claims()))  # still cached
    clock.advance(1)
    assert await refused(verifier, rsa_signer.token(claims())) == "unknown key"
    assert server.fetches == 2


async def test_unknown_kids_cannot_flood_the_jwks(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier, clock: FakeClock
) -> None:
    """20 unknown kids cost at most one JWKS fetch per refetch interval."""
    server.serve(rsa_signer)
    verifier = make_verifier()
    await verifier.verify(rsa_signer.token(claims()))
    for round_ in (1, 2):
        clock.advance(INTERVAL)
        for n in range(20):
            token = rsa_signer.token(claims(), kid=f"unknown-{round_}-{n}")
            assert await refused(verifier, token) == "unknown key"
        assert server.fetches == 1 + round_
    for n in range(20):
        token = rsa_signer.token(claims(), kid=f"unknown-3-{n}")
        assert await refused(verifier, token) == "unknown key"
    assert server.fetches == 3


@pytest.mark.parametrize("interval", [INTERVAL, 0.0])
async def test_concurrent_cold_verifications_share_one_fetch(
    interval: float, server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """Twenty verifications racing on a cold cache (a slow JWKS) make one fetch, rate limit or not."""
    server.serve(rsa_signer)
    server.delay = 0.05
    verifier = make_verifier(min_refetch_interval=interval)
    tokens = [rsa_signer.token(claims(sub=f"user_{n}")) for n in range(20)]
    callers = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    assert [caller.name for caller in callers] == [f"user_{n}" for n in range(20)]
    assert server.fetches == 1


async def test_cancelled_fetch_does_not_hold_back_the_next(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """A verification cancelled mid-fetch (a client gone) lets the next one fetch at once."""
    server.serve(rsa_signer)
    server.delay = 0.2
    verifier = make_verifier()
    first = asyncio.create_task(verifier.verify(rsa_signer.token(claims())))
    assert await asyncio.to_thread(server.requested.wait, 5)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    server.delay = 0.0
    assert (await verifier.verify(rsa_signer.token(claims()))).name == "user_2abc"
    assert server.fetches == 2


async def test_jwks_down_at_start_up_then_back(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier, clock: FakeClock
) -> None:
    """With no JWKS yet, every token is refused; once it is back, tokens verify without restart."""
    server.serve(rsa_signer)
    server.status = 503
    verifier = make_verifier()
    token = rsa_signer.token(claims())
    assert await refused(verifier, token) == "keys unavailable"
    server.status = 200
    assert await refused(verifier, token) == "keys unavailable"  # not refetched yet
    assert server.fetches == 1
    clock.advance(INTERVAL)
    assert (await verifier.verify(token)).name == "user_2abc"
    assert server.fetches == 2


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"keys": "none"}', b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'],
)
async def test_unusable_jwks_counts_as_unavailable(
    body: bytes, server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """A JWKS that is not JSON, not a key set, or holds only symmetric keys gives no key."""
    server.body = body
    assert await refused(make_verifier(), rsa_signer.token(claims())) == "keys unavailable"


async def test_unreachable_jwks_at_start_up(
    http: httpx.AsyncClient, rsa_signer: Signer, clock: FakeClock
) -> None:
    """A JWKS URL where nothing listens refuses tokens as keys unavailable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = JwtVerifier(
        jwks_url=f"http://127.0.0.1:{port}/jwks", issuer=ISSUER, http=http, clock=clock
    )
    assert await refused(verifier, rsa_signer.token(claims())) == "keys unavailable"


async def test_jwks_down_at_request_time(
    server: JwksServer,
    rsa_signer: Signer,
    ec_signer: Signer,
    make_verifier: Verifier,
    clock: FakeClock,
) -> None:
    """While the JWKS is down, cached keys keep verifying (even stale) and unknown kids are refused."""
    server.serve(rsa_signer)
    verifier = make_verifier()
    await verifier.verify(rsa_signer.token(claims()))
    server.status = 503
    clock.advance(TTL)

    await verifier.verify(rsa_signer.token(claims()))
    assert server.fetches == 2  # the refresh failed; the cached key served
    clock.advance(INTERVAL)
    assert await refused(verifier, ec_signer.token(claims())) == "keys unavailable"

    server.status = 200
    server.serve(rsa_signer, ec_signer)
    clock.advance(INTERVAL)
    await verifier.verify(ec_signer.token(claims()))
    assert server.fetches == 4


async def test_short_rsa_key_is_refused(server: JwksServer, make_verifier: Verifier) -> None:
    """A JWKS key below 2048 bits does not verify anything."""
    short_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    weak = Signer("weak", "RS256", short_key)
    server.serve(weak)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns when signing with the short key
        token = weak.token(claims())
    assert await refused(make_verifier(), token) == "unknown key"


@pytest.mark.parametrize(
    "url",
    [
        "https://clerk.example.com/.well-known/jwks.json",
        "http://127.0.0.1:8080/jwks",
        "http://localhost/jwks",
        "http://[::1]:9000/jwks",
    ],
)
def test_jwks_url_accepted(url: str) -> None:
    """https anywhere, and http on a loopback host, are JWKS URLs."""
    assert validate_jwks_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://clerk.example.com/.well-known/jwks.json",
        "http://localhost.example.com/jwks",
        "http://10.0.0.1/jwks",
        "ftp://127.0.0.1/jwks",
        "https://user:pw@clerk.example.com/jwks",
        "/.well-known/jwks.json",
        "",
    ],
)
def test_jwks_url_refused(url: str, http: httpx.AsyncClient) -> None:
    """Plain http off loopback, other schemes, credentials and relative URLs are refused."""
    with pytest.raises(ValueError, match="JWKS URL"):
        validate_jwks_url(url)
    with pytest.raises(ValueError, match="JWKS URL"):
        JwtVerifier(jwks_url=url, issuer=ISSUER, http=http)


# The Authenticator: which header carries what.


@pytest.fixture
def api_key() -> str:
    return new_api_key()


@pytest.fixture
def authenticator(make_verifier: Verifier, api_key: str) -> Authenticator:
    return Authenticator(make_verifier(), ApiKeys([("bff", key_hash(api_key))]))


async def test_bearer_jwt(
    server: JwksServer, rsa_signer: Signer, authenticator: Authenticator
) -> None:
    """`Authorization: Bearer <jwt>` (any case of the scheme) is the token's subject."""
    server.serve(rsa_signer)
    token = rsa_signer.token(claims())
    for scheme in ("Bearer", "bearer"):
        caller = await authenticator.authenticate(f"{scheme} {token}", None)
        assert caller.id == "jwt:user_2abc"


async def test_api_key_in_either_header(authenticator: Authenticator, api_key: str) -> None:
    """An API key is accepted as a bearer token or in X-API-Key."""
    assert (await authenticator.authenticate(f"Bearer {api_key}", None)).id == "api_key:bff"
    assert (await authenticator.authenticate(None, api_key)).id == "api_key:bff"


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "reason"),
    [
        (None, None, "missing credentials"),
        ("Bearer KEY", "KEY", "ambiguous credentials"),
        ("Basic dXNlcjpwdw==", None, "unsupported scheme"),
        ("KEY", None, "unsupported scheme"),
        ("Bearer ", None, "malformed token"),
        ("Bearer " + "x" * 8200, None, "malformed token"),
        (None, "igw_" + "x" * 8200, "malformed token"),
        ("Bearer igw_" + "A" * 43, None, "unknown api key"),
        (None, "igw_" + "A" * 43, "unknown api key"),
        (None, "not-a-key", "unknown api key"),
        ("Bearer not-a-jwt", None, "malformed token"),
    ],
)
async def test_refused_credentials(
    authorization: str | None,
    x_api_key: str | None,
    reason: str,
    authenticator: Authenticator,
    api_key: str,
) -> None:
    """Missing, doubled, foreign-scheme, oversized and unknown credentials each have a reason."""
    if authorization is not None:
        authorization = authorization.replace("KEY", api_key)
    if x_api_key is not None:
        x_api_key = x_api_key.replace("KEY", api_key)
    with pytest.raises(Unauthenticated) as refusal:
        await authenticator.authenticate(authorization, x_api_key)
    assert refusal.value.reason == reason


async def test_jwt_without_a_verifier(rsa_signer: Signer, api_key: str) -> None:
    """With API keys only, a bearer JWT is refused and a key still works."""
    authenticator = Authenticator(None, ApiKeys([("bff", key_hash(api_key))]))
    with pytest.raises(Unauthenticated) as refusal:
        await authenticator.authenticate(f"Bearer {rsa_signer.token(claims())}", None)
    assert refusal.value.reason == "jwt not accepted"
    assert (await authenticator.authenticate(None, api_key)).id == "api_key:bff"


async def test_api_key_without_a_keys_file(make_verifier: Verifier, api_key: str) -> None:
    """With JWTs only, any API key is unknown."""
    authenticator = Authenticator(make_verifier(), None)
    with pytest.raises(Unauthenticated) as refusal:
        await authenticator.authenticate(None, api_key)
    assert refusal.value.reason == "unknown api key"


def _counting_decode(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Spy on signature checks: each call of jwt.decode is one token verified in full."""
    import invitation_gateway.callers.jwt as module

    calls: list[str] = []
    real = module.jwt.decode

    def decode(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(module.jwt, "decode", decode)
    return calls


async def test_a_verified_token_is_not_verified_again_for_a_while(
    server: JwksServer,
    rsa_signer: Signer,
    make_verifier: Verifier,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same token again within 60 s: the same caller, no second signature check."""
    server.serve(rsa_signer)
    decoded = _counting_decode(monkeypatch)
    verifier = make_verifier()
    token = rsa_signer.token(claims())
    first = await verifier.verify(token)
    clock.advance(59)
    assert await verifier.verify(token) == first
    assert len(decoded) == 1
    clock.advance(1)  # 60 s: verified in full again
    await verifier.verify(token)
    assert len(decoded) == 2


async def test_a_remembered_token_still_expires(
    server: JwksServer, rsa_signer: Signer, make_verifier: Verifier
) -> None:
    """Remembering a token never outlives its exp (plus the same 30 s leeway)."""
    server.serve(rsa_signer)
    now = claims()["iat"]
    verifier = make_verifier()  # its monotonic clock stays put: only exp can end the memory
    token = rsa_signer.token(claims(exp=now + 5))
    await verifier.verify(token)
    with time_machine.travel(now + 5 + 31, tick=False):
        assert await refused(verifier, token) == "expired"
