"""What an upstream answered, and which answers the upstream path settles itself.

`AnswerScreen.screen` passes on what an adapter must interpret (2xx, and the 4xx a vendor uses
to explain a refusal) and turns everything else into the domain's errors: 429 (rate limited,
with its `Retry-After`), 401/407 (the gateway's own credentials), 408/499 and 5xx (outages,
counted by the circuit breaker), 3xx (never followed). Bodies go to the log, truncated, with the
upstream's request id; never to the caller.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ..domain.errors import ProviderRateLimited, ProviderUnavailable
from ..domain.invitations import Provider
from ..redaction import mask_emails
from .reliability import AttemptFailed, Outage

logger = logging.getLogger("invitation_gateway.providers.http")

_LOG_EXCERPT = 300
_CANCELLED = frozenset({408, 499})
# 4xx statuses that say nothing about the request's content: handled here, not by adapters.
_NOT_THE_CALLERS = frozenset({401, 407, 429}) | _CANCELLED

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """An upstream answer the adapter has to interpret: status, headers and a capped body."""

    status: int
    headers: httpx.Headers
    body: bytes
    request_id: str | None
    # True when an earlier attempt of this call reached the upstream and failed (its answer
    # lost, or a 5xx): this answer may describe the state that earlier attempt left behind.
    after_unknown_outcome: bool = False

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON at all."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class AnswerScreen:
    """One connection's rules for answers: what adapters see, what becomes an error.

    `clock` is the wall clock in Unix seconds: a `Retry-After` given as a date counts from it.
    """

    def __init__(self, provider: Provider, *, clock: Callable[[], float] = time.time) -> None:
        self.provider = provider
        self._clock = clock

    def screen(self, operation: str, answer: UpstreamResponse) -> UpstreamResponse:
        """The answer when the adapter must interpret it (2xx, explainable 4xx); else raises.

        Logs nothing: the upstream call's one log line (`http.py`) has the status and, for
        anything but a 2xx, an excerpt of the body.
        """
        status, provider = answer.status, self.provider
        if 200 <= status < 300 or (400 <= status < 500 and status not in _NOT_THE_CALLERS):
            return answer
        if status == 429:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"), now=self._clock())
            limited = ProviderRateLimited(
                f"{provider_name(provider)} is rate limiting the gateway; retry later",
                provider=provider,
                retry_after=retry_after,
            )
            # A 429 means the upstream refused the request before doing anything.
            raise AttemptFailed(limited, reached=False)
        if status in {401, 407}:
            raise ProviderUnavailable(
                f"{provider_name(provider)} rejected the gateway's credentials", provider=provider
            )
        if status in _CANCELLED:
            # ConductorOne answers both 408 and 499 for requests it cancelled (notes §6.2): an
            # outage like a 5xx, not something the caller did.
            cancelled = ProviderUnavailable(
                f"{provider_name(provider)} is unavailable", provider=provider
            )
            raise Outage(cancelled, reached=True)
        if 300 <= status < 400:
            raise self.unreadable()
        unavailable = ProviderUnavailable(
            f"{provider_name(provider)} is unavailable", provider=provider
        )
        raise Outage(unavailable, reached=True)

    def read(self, model: type[_M], answer: UpstreamResponse, operation: str) -> _M:
        """The answer's body as the vendor's documented model, or `unreadable()` (logged)."""
        try:
            return model.model_validate(answer.json())
        except ValidationError as exc:
            self.log(
                logging.ERROR,
                operation,
                answer,
                f"unexpected body shape: {exc.error_count()} errors",
            )
            # `from None`: the validation error quotes the body (emails); the log line above
            # already says what was wrong with its shape.
            raise self.unreadable() from None

    def unreadable(self) -> ProviderUnavailable:
        """The error for an answer that does not have the shape the vendor documents."""
        return ProviderUnavailable(
            f"{provider_name(self.provider)} gave an answer the gateway could not read",
            provider=self.provider,
        )

    def log(self, level: int, operation: str, answer: UpstreamResponse, why: str) -> None:
        # The body goes to the log (truncated), never to the caller.
        logger.log(
            level,
            "%s %s -> HTTP %s: %s (request id %s) body: %r",
            self.provider.value,
            operation,
            answer.status,
            why,
            answer.request_id or "-",
            excerpt(answer),
        )


def excerpt(answer: UpstreamResponse) -> str:
    """The start of an answer's body for a log line, emails masked; never for the caller."""
    return mask_emails(answer.body[:_LOG_EXCERPT].decode("utf-8", "replace"))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110).

    `now` (Unix seconds, from the caller's clock) is what a date counts from.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def provider_name(provider: Provider) -> str:
    return {Provider.CONDUCTORONE: "ConductorOne", Provider.CLERK: "Clerk"}[provider]
