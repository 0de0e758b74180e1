"""The enforced-authentication set-up: a signing key, its JWKS, one JWT and a policy file.

The gateway verifies the token as it would a Clerk session token (an ES256 signature checked
against the JWKS the stub serves over loopback http, `exp`, `nbf`, `iss`), and the policy lets
that caller create and revoke in the benchmark's targets, with any role.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://clerk.bench.test"
SUBJECT = "user_2benchCaller"  # a Clerk user: org creates then name it as inviter_user_id
KID = "bench-key"


@dataclass(frozen=True)
class AuthFiles:
    """The files the enforced gateway and the stub read, and the token the load sends."""

    jwks: Path
    policy: Path
    token: str


def make_auth_files(directory: Path, targets: list[dict[str, str]], lifetime: int) -> AuthFiles:
    """Write `jwks.json` and `policy.toml` into `directory`; the token lives `lifetime` seconds."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {
        "kid": KID,
        "use": "sig",
        "alg": "ES256",
    }
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    now = int(time.time())
    claims = {"sub": SUBJECT, "iss": ISSUER, "iat": now, "nbf": now - 5, "exp": now + lifetime}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": KID})
    policy = directory / "policy.toml"
    rows = ", ".join(f'{{ kind = "{t["kind"]}", id = "{t["id"]}" }}' for t in targets)
    policy.write_text(
        "[[allow]]\n"
        'callers = ["jwt"]\n'
        'actions = ["read", "create", "revoke"]\n'
        f"targets = [{rows}]\n"
        'roles = ["*"]\n',
        encoding="utf-8",
    )
    return AuthFiles(jwks=jwks, policy=policy, token=token)
