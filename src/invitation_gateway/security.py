"""The security half of the composition root: who may call, what they may do, from where.

`SecurityConfig.from_settings` reads everything that can be wrong at start-up (the mode, the
policy file, the API keys file, the JWKS URL) and refuses to start on a bad or missing piece,
by variable or file and line, never a value. `open_authenticator` builds what needs the
lifespan (the JWKS client and its cache). README "Security" is the user's view of all this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import httpx

from .callers.api_keys import ApiKeys, ApiKeysFileError
from .callers.authenticate import Authenticator
from .callers.jwt import JwtVerifier
from .callers.policy import Policy, PolicyFileError
from .settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)

Mode = Literal["enforced", "disabled"]
_T = TypeVar("_T")

DISABLED_WARNING = (
    "AUTHENTICATION IS DISABLED (GATEWAY_AUTH__MODE=disabled): every request acts as the "
    "development caller 'dev'%s. Never expose this gateway to anyone you do not trust."
)


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    mode: Mode
    policy: Policy | None  # None: no policy file (only possible in disabled mode)
    api_keys: ApiKeys | None
    introspection: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityConfig:
        """Validated at start-up. `None` settings mean `enforced`, introspection off (serve)."""
        auth = settings.auth
        mode: Mode = auth.mode or "enforced"
        policy = _load(Policy.load, settings.policy.file, PolicyFileError)
        api_keys = _load(ApiKeys.load, auth.api_keys_file, ApiKeysFileError)
        if mode == "enforced":
            if policy is None:
                raise ConfigurationError(
                    "GATEWAY_POLICY__FILE is not set: with GATEWAY_AUTH__MODE=enforced (the "
                    "default for serve) the gateway needs an authorization policy; see the "
                    "README's Security section"
                )
            if auth.jwks_url is None and api_keys is None:
                raise ConfigurationError(
                    "no caller can authenticate: set GATEWAY_AUTH__JWKS_URL (bearer JWTs) "
                    "and/or GATEWAY_AUTH__API_KEYS_FILE (API keys)"
                )
            if auth.jwks_url is not None and auth.issuer is None:
                raise ConfigurationError(
                    "GATEWAY_AUTH__ISSUER must be set with GATEWAY_AUTH__JWKS_URL: a token's "
                    "issuer is always checked"
                )
        else:
            with_policy = " (the policy file still applies)" if policy is not None else ""
            logger.warning(DISABLED_WARNING, with_policy)
        introspection = settings.graphql.introspection
        return cls(mode, policy, api_keys, bool(introspection))


def open_authenticator(
    settings: Settings,
    security: SecurityConfig,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Authenticator, httpx.AsyncClient | None]:
    """The authenticator, and the JWKS client the lifespan must close (None without JWTs).

    The JWKS is fetched over the real network, never through the upstreams' transport: it
    belongs to the identity provider, not to an invitation upstream. `clock` (monotonic) times
    the JWKS cache, its refetches and the verified tokens' memory.
    """
    auth = settings.auth
    if security.mode == "disabled" or auth.jwks_url is None:
        return Authenticator(None, security.api_keys), None
    http = httpx.AsyncClient(follow_redirects=False)
    verifier = JwtVerifier(
        jwks_url=auth.jwks_url,
        issuer=auth.issuer,
        audience=auth.audience,
        authorized_parties=auth.authorized_parties,
        http=http,
        clock=clock,
    )
    return Authenticator(verifier, security.api_keys), http


def _load(load: Callable[[Path], _T], path: Path | None, error: type[ValueError]) -> _T | None:
    if path is None:
        return None
    try:
        return load(path)
    except error as exc:
        raise ConfigurationError(str(exc)) from None
