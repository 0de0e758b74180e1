"""ConductorOne OAuth client credentials: the client id, the secret, the signed assertion, settings.

The token flow that uses them is in `test_conductorone_token_*.py`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from pydantic import ValidationError

from invitation_gateway.providers.conductorone._credentials import (
    CLIENT_ID_VARIABLE,
    CLIENT_SECRET_VARIABLE,
    client_assertion,
    parse_client_id,
    parse_client_secret,
)
from invitation_gateway.settings import ConfigurationError, Settings
from invitation_gateway.upstreams import conductorone_config, configured_connections
from tests.support.conductorone_token_rig import b64, segment

# The example secret of C1's docs (DOC-AUTH, conductorone-notes.md §5.1) and the public key in it.
DOCS_SECRET = (
    "secret-token:conductorone.com:v1:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IkMySEx5Y0d6eUhf"
    "ZDQwcjJvejZoNkpqdndvRVFBZ0FTRVc2eDB6emh6Y2MiLCJkIjoiLTgzVkxXUVUtZVhQY0ZCWVhDb2NpU29XVmhrYnRX"
    "Um9zdkZUZ3JqcXNVbyJ9"
)
DOCS_X = "C2HLycGzyH_d40r2oz6h6JjvwoEQAgASEW6x0zzhzcc"
DOCS_D = "-83VLWQU-eXPcFBYXCociSoWVhkbtWRosvFTgrjqsUo"
DOCS_CLIENT_ID = "strange-hydra-68836@acme.conductor.one/pcc"
PREFIX = "secret-token:conductorone.com:v1:"
HOST = "conductorone.test"
NOW = 1_760_000_000.75


def secret_for(jwk: Any) -> str:
    return PREFIX + b64(json.dumps(jwk).encode())


def ed25519_jwk(**extra: str) -> dict[str, str]:
    key = Ed25519PrivateKey.generate()
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "d": b64(key.private_bytes_raw()),
        **extra,
    }


# --- the client id -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "host"),
    [
        (DOCS_CLIENT_ID, "acme.conductor.one"),
        ("clever-fox@acme.c1eu.ai/wfe", "acme.c1eu.ai"),
        ("x@Acme.Conductor.One/pcc", "acme.conductor.one"),
        ("x@localhost:8443/pcc", "localhost:8443"),
        ("x@acme.conductor.one/pcc/more", "acme.conductor.one"),
    ],
)
def test_client_id_names_the_tenant_host(client_id: str, host: str) -> None:
    """The host is what lies between the first `@` and the first `/` after it, lower-cased."""
    assert parse_client_id(client_id) == host


@pytest.mark.parametrize(
    "client_id",
    [
        "",
        "strange-hydra-68836",
        "@acme.conductor.one/pcc",
        "x@/pcc",
        "x@acme.conductor.one",
        "x@acme.conductor.one/",
        "x@acme conductor.one/pcc",
        "x@user@acme.conductor.one/pcc",
        "x@acme.conductor.one:port/pcc",
        "x@acme.conductor.one?q/pcc",
    ],
)
def test_a_malformed_client_id_is_refused_by_variable_name(client_id: str) -> None:
    """A client id without `<name>@<host>/<use>` is a ValueError naming the variable."""
    with pytest.raises(ValueError, match=CLIENT_ID_VARIABLE) as caught:
        parse_client_id(client_id)
    assert "<name>@<tenant host>/<use>" in str(caught.value)


# --- the client secret -------------------------------------------------------------------------


def test_the_docs_example_secret_parses_and_its_x_is_the_public_key_of_d() -> None:
    """C1's documented example secret gives an Ed25519 private key whose public key is its `x`."""
    key = parse_client_secret(DOCS_SECRET)
    assert isinstance(key.key, Ed25519PrivateKey)
    assert b64(key.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)) == DOCS_X
    assert b64(key.key.private_bytes_raw()) == DOCS_D
    assert key.key_id is None


def test_padding_is_accepted_whether_present_or_not() -> None:
    """The JWK part may come with or without `=` padding (Go wants none, Python needs it)."""
    jwk = ed25519_jwk()
    encoded = base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode()
    assert encoded.endswith("="), "the fixture must need padding"
    padded, unpadded = PREFIX + encoded, PREFIX + encoded.rstrip("=")
    for secret in (padded, unpadded):
        assert b64(parse_client_secret(secret).key.private_bytes_raw()) == jwk["d"]


def test_a_kid_in_the_jwk_is_kept() -> None:
    """A JWK with `kid` gives a key that carries it (it then goes into the assertion header)."""
    assert parse_client_secret(secret_for(ed25519_jwk(kid="key-1"))).key_id == "key-1"


def _rsa_jwk() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return jwk


def _ed448_jwk() -> dict[str, str]:
    key = Ed448PrivateKey.generate()
    return {
        "kty": "OKP",
        "crv": "Ed448",
        "x": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "d": b64(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())),
    }


def _mismatched_jwk() -> dict[str, str]:
    return {**ed25519_jwk(), "x": ed25519_jwk()["x"]}


MALFORMED_SECRETS = {
    "wrong prefix": DOCS_SECRET.replace("secret-token:", "bearer-token:"),
    "wrong domain": DOCS_SECRET.replace("conductorone.com", "example.com"),
    "wrong version": DOCS_SECRET.replace(":v1:", ":v2:"),
    "too few parts": "secret-token:conductorone.com:" + DOCS_SECRET.rsplit(":", 1)[1],
    "bad base64": PREFIX + "eyJrdHkiOiJPS1Ai!!notbase64",
    "impossible base64 length": PREFIX + "eyJrdHkiOiJPS1AiQ",
    "not JSON": PREFIX + b64(b"kty=OKP;crv=Ed25519;d=TOPSECRET"),
    "JSON but not an object": secret_for(["OKP", "Ed25519", "TOPSECRET"]),
    "public key only": secret_for({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X}),
    "RSA key": secret_for(_rsa_jwk()),
    "wrong curve": secret_for(_ed448_jwk()),
    "x of another key": secret_for(_mismatched_jwk()),
    "no x": secret_for({"kty": "OKP", "crv": "Ed25519", "d": DOCS_D}),
    "short d": secret_for({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X, "d": DOCS_D[:20]}),
    "kid not a string": secret_for(
        {"kty": "OKP", "crv": "Ed25519", "x": DOCS_X, "d": DOCS_D, "kid": 7}
    ),
    "empty": "",
}


@pytest.mark.parametrize("secret", MALFORMED_SECRETS.values(), ids=MALFORMED_SECRETS.keys())
def test_a_malformed_secret_is_refused_without_echoing_it(secret: str) -> None:
    """Each malformed secret is a ValueError naming the variable and the shape, with none of it."""
    with pytest.raises(ValueError, match=CLIENT_SECRET_VARIABLE) as caught:
        parse_client_secret(secret)
    message = str(caught.value)
    assert "secret-token:conductorone.com:v1:<base64url of an Ed25519 private JWK>" in message
    payload = secret.split(":", 3)[-1]
    assert not payload or payload not in message
    assert "TOPSECRET" not in message
    key_material = re.search(r"[A-Za-z0-9_-]{20,}", message.replace(CLIENT_SECRET_VARIABLE, ""))
    assert key_material is None, message  # no key material of any kind
    # A library error that quoted the JWK is not kept as the cause either.
    assert caught.value.__cause__ is None


# --- the client assertion ----------------------------------------------------------------------


def test_the_assertion_header_and_claims_are_exactly_the_go_sdks() -> None:
    """Header {alg, nonce}, no typ; claims iss, sub, aud (array), exp/nbf = now ± 120, iat = now."""
    key = parse_client_secret(DOCS_SECRET)
    token = client_assertion(DOCS_CLIENT_ID, key, "acme.conductor.one", NOW)
    header, claims = segment(token, 0), segment(token, 1)
    assert set(header) == {"alg", "nonce"}
    assert header["alg"] == "EdDSA"
    assert re.fullmatch(r"[0-9a-f]{32}", header["nonce"])
    assert claims == {
        "iss": DOCS_CLIENT_ID,
        "sub": DOCS_CLIENT_ID,
        "aud": ["acme.conductor.one"],
        "exp": 1_760_000_120,
        "nbf": 1_759_999_880,
        "iat": 1_760_000_000,
    }
    assert list(claims) == ["iss", "sub", "aud", "exp", "nbf", "iat"]  # go-jose's field order


def test_the_assertion_is_a_compact_jws_that_verifies_with_the_public_key() -> None:
    """Three unpadded base64url segments, signed EdDSA over the first two with the JWK's key."""
    key = parse_client_secret(DOCS_SECRET)
    token = client_assertion(DOCS_CLIENT_ID, key, "acme.conductor.one", NOW)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    public = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": DOCS_X}, algorithm="EdDSA")
    signed = jwt.PyJWS().decode_complete(token, public, algorithms=["EdDSA"])
    assert json.loads(signed["payload"])["iss"] == DOCS_CLIENT_ID


def test_each_assertion_has_a_new_nonce_and_a_kid_only_when_the_jwk_has_one() -> None:
    """Nonces differ per assertion; `kid` appears in the header only for a JWK that has one."""
    plain = parse_client_secret(DOCS_SECRET)
    first, second = (client_assertion("c", plain, "h", NOW) for _ in range(2))
    assert segment(first, 0)["nonce"] != segment(second, 0)["nonce"]
    with_kid = parse_client_secret(secret_for(ed25519_jwk(kid="key-1")))
    assert segment(client_assertion("c", with_kid, "h", NOW), 0)["kid"] == "key-1"


def test_the_audience_never_carries_a_port() -> None:
    """`acme.conductor.one:8443` signs `aud: ["acme.conductor.one"]`, as the Go SDK does."""
    token = client_assertion("c", parse_client_secret(DOCS_SECRET), "acme.conductor.one:8443", NOW)
    assert segment(token, 1)["aud"] == ["acme.conductor.one"]


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture
def no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("TOKEN", "BASE_URL", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"GATEWAY_CONDUCTORONE__{name}", raising=False)
    monkeypatch.delenv("GATEWAY_CLERK__SECRET_KEY", raising=False)
    return monkeypatch


def errors_of(caught: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(e["msg"] for e in caught.value.errors(include_input=False))


def test_client_credentials_configure_conductorone_and_derive_the_base_url(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """CLIENT_ID + CLIENT_SECRET alone configure ConductorOne at https://<host of the client id>."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    settings = Settings()
    assert settings.configured_upstreams == ["conductorone"]
    [default] = configured_connections(settings, {})
    assert conductorone_config(default).base_url == "https://acme.conductor.one"
    assert DOCS_D not in repr(settings)


def test_an_explicit_base_url_wins_over_the_client_ids_host(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """GATEWAY_CONDUCTORONE__BASE_URL, when set, is used as it is."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__BASE_URL", "https://acme.c1eu.ai/")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    [default] = configured_connections(Settings(), {})
    assert conductorone_config(default).base_url == "https://acme.c1eu.ai"


@pytest.mark.parametrize(
    ("present", "missing"),
    [("CLIENT_ID", "CLIENT_SECRET"), ("CLIENT_SECRET", "CLIENT_ID")],
)
def test_one_half_of_the_client_credentials_names_the_other(
    no_gateway_env: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    """A client id without a secret (or the reverse) is an error naming the missing variable."""
    value = {"CLIENT_ID": DOCS_CLIENT_ID, "CLIENT_SECRET": DOCS_SECRET}[present]
    no_gateway_env.setenv(f"GATEWAY_CONDUCTORONE__{present}", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert f"GATEWAY_CONDUCTORONE__{missing} is not" in errors_of(caught)
    assert DOCS_D not in errors_of(caught)


def test_a_token_and_client_credentials_together_say_to_choose_one(
    no_gateway_env: pytest.MonkeyPatch,
) -> None:
    """Both ways of authenticating at once is refused, saying to choose one."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__BASE_URL", "https://acme.conductor.one")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__TOKEN", "tok")
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "choose one" in errors_of(caught)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLIENT_SECRET", MALFORMED_SECRETS["wrong version"]),
        ("CLIENT_SECRET", MALFORMED_SECRETS["public key only"]),
        ("CLIENT_ID", "not-a-client-id"),
    ],
)
def test_a_malformed_credential_fails_at_start_up_by_name(
    no_gateway_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """The secret's (and id's) shape is checked at start-up (the root), naming the variable only."""
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_ID", DOCS_CLIENT_ID)
    no_gateway_env.setenv("GATEWAY_CONDUCTORONE__CLIENT_SECRET", DOCS_SECRET)
    no_gateway_env.setenv(f"GATEWAY_CONDUCTORONE__{variable}", value)
    settings = Settings()  # plain data: it holds the value, the root judges it
    with pytest.raises(ConfigurationError) as caught:
        configured_connections(settings, {})
    assert f"GATEWAY_CONDUCTORONE__{variable}" in str(caught.value)
    assert value.split(":")[-1] not in str(caught.value)
