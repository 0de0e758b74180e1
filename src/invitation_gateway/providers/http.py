"""The one path every upstream call takes.

`UpstreamClient` wraps one pooled `httpx.AsyncClient` per connection (opened and closed by the app
lifespan). It owns what is the same for every vendor: authentication (an `httpx.Auth`: a static
bearer or the ConductorOne OAuth flow), timeouts and the call's total budget, safe retries and
the circuit breaker (`reliability.py`), never following redirects, a cap on how much of a body
is read, and turning transport failures, 5xx, 429 and rejected credentials into domain errors.
Adapters get back an `UpstreamResponse` only for answers they must interpret themselves (2xx and
the explainable 4xx). Metrics and tracing hook in here too, in `send`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import stamina
from pydantic import BaseModel, ValidationError

from .. import __version__
from ..domain.errors import ProviderRateLimited, ProviderTimeout, ProviderUnavailable
from ..domain.invitations import Provider
from .auth import AuthFlowError
from .reliability import (
    AttemptFailed,
    CircuitBreaker,
    CircuitOpen,
    Outage,
    Reliability,
    RetryPolicy,
    never_reached,
    retry_decision,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # an invitation answer is a few kB; more than 1 MiB is not one
_LOG_EXCERPT = 300

_CANCELLED = frozenset({408, 499})
# 4xx statuses that say nothing about the request's content: handled here, not by adapters.
_NOT_THE_CALLERS = frozenset({401, 407, 429}) | _CANCELLED

_M = TypeVar("_M", bound=BaseModel)

QueryParams = Mapping[str, str | int | Sequence[str]]


def path(*segments: str) -> str:
    """Join path segments, percent-escaping each so an id can never add or remove a segment."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


@dataclass(frozen=True, slots=True)
class _Call:
    """One logical upstream call, as every attempt of it is sent."""

    method: str
    path: str
    operation: str
    json_body: object | None
    params: QueryParams | None


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


class UpstreamClient:
    """One upstream connection: a pooled client plus the rules every call follows."""

    def __init__(
        self,
        *,
        provider: Provider,
        base_url: str,
        auth: httpx.Auth,
        request_id_header: str,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        reliability: Reliability | None = None,
        name: str = "default",
    ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.reliability = reliability or Reliability()
        self.breaker = CircuitBreaker(f"{provider.value}/{name}", self.reliability)
        self._request_id_header = request_id_header
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=transport,
            timeout=self.reliability.httpx_timeout(),
            # ConductorOne redirects ids like "" or "." to the collection (conductorone-notes.md
            # §6.1): following that would act on the wrong resource, so a 3xx is an error.
            follow_redirects=False,
            headers={
                "User-Agent": f"invitation-gateway/{__version__}",
                "Accept": "application/json",
                **(headers or {}),
            },
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        url_path: str,
        *,
        operation: str,
        retry: RetryPolicy,
        json_body: object | None = None,
        params: QueryParams | None = None,
    ) -> UpstreamResponse:
        """Send a request with the connection's retries, budget and breaker.

        Returns 2xx and explainable 4xx answers; raises domain errors for everything else.
        """
        settings = self.reliability
        call = _Call(method, url_path, operation, json_body, params)
        deadline = time.monotonic() + settings.total_timeout
        unknown_outcome = False  # an attempt reached the upstream and its outcome was lost
        try:
            async for attempt in stamina.retry_context(
                on=retry_decision(retry, settings, deadline),
                attempts=settings.attempts,
                timeout=settings.total_timeout,
                wait_initial=settings.wait_initial,
                wait_max=settings.wait_max,
                wait_jitter=settings.wait_jitter,
            ):
                with attempt:
                    try:
                        answer = await self._guarded(call, deadline)
                    except Outage as outage:
                        unknown_outcome = unknown_outcome or outage.reached
                        raise
                    if unknown_outcome:
                        return replace(answer, after_unknown_outcome=True)
                    return answer
        except AttemptFailed as failed:
            _mark_unknown(failed.error, unknown_outcome)
            raise failed.error from failed
        except ProviderUnavailable as error:  # the budget ran out between attempts
            _mark_unknown(error, unknown_outcome)
            raise
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _guarded(self, call: _Call, deadline: float) -> UpstreamResponse:
        """One attempt, through the circuit breaker and within what is left of the budget."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:  # spent waiting between attempts: no attempt is made
            raise self._over_budget(call.operation)
        try:
            async with self.breaker.guard():
                try:
                    async with asyncio.timeout(remaining):
                        return await self._attempt(call)
                except TimeoutError as exc:
                    # The call's budget ran out mid-attempt (e.g. a trickling body): an outage.
                    raise Outage(self._over_budget(call.operation), reached=True) from exc
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                f"{_name(self.provider)} is unavailable (failing fast after repeated errors)",
                provider=self.provider,
            ) from exc

    def _over_budget(self, operation: str) -> ProviderTimeout:
        logger.warning(
            "%s %s exceeded its %.1fs budget",
            self.provider.value,
            operation,
            self.reliability.total_timeout,
        )
        return self._timed_out()

    def _timed_out(self) -> ProviderTimeout:
        return ProviderTimeout(
            f"{_name(self.provider)} did not answer in time", provider=self.provider
        )

    async def _attempt(self, call: _Call) -> UpstreamResponse:
        """One HTTP exchange: the answer, or an `AttemptFailed` saying whether it reached."""
        operation = call.operation
        started = time.perf_counter()
        try:
            async with self._client.stream(
                call.method, call.path, json=call.json_body, params=call.params
            ) as response:
                body = await _read_capped(response)
        except httpx.TimeoutException as exc:
            logger.warning(
                "%s %s timed out after %.2fs (%s)",
                self.provider.value,
                operation,
                time.perf_counter() - started,
                type(exc).__name__,
            )
            raise Outage(self._timed_out(), reached=not never_reached(exc)) from exc
        except httpx.TransportError as exc:
            logger.warning("%s %s transport error: %r", self.provider.value, operation, exc)
            unavailable = ProviderUnavailable(
                f"{_name(self.provider)} could not be reached", provider=self.provider
            )
            raise Outage(unavailable, reached=not never_reached(exc)) from exc
        except AuthFlowError as exc:
            # The auth flow could not obtain a credential (e.g. ConductorOne's token exchange).
            # Its message holds the token endpoint's status and an excerpt of its answer, never
            # the client secret.
            logger.error("%s %s: no access token: %s", self.provider.value, operation, exc)
            if exc.status == 429:
                raise ProviderRateLimited(
                    f"{_name(self.provider)} is rate limiting the gateway; retry later",
                    provider=self.provider,
                    retry_after=exc.retry_after,
                ) from exc
            if exc.status is not None and 400 <= exc.status < 500:
                raise ProviderUnavailable(
                    f"{_name(self.provider)} rejected the gateway's client credentials",
                    provider=self.provider,
                ) from exc
            raise ProviderUnavailable(
                f"{_name(self.provider)} could not issue the gateway an access token",
                provider=self.provider,
            ) from exc

        answer = UpstreamResponse(
            status=response.status_code,
            headers=response.headers,
            body=body or b"",
            request_id=response.headers.get(self._request_id_header),
        )
        if body is None:
            self._log(logging.ERROR, operation, answer, "body exceeded the size cap")
            raise self.unreadable()
        return self._screen(operation, answer)

    def _screen(self, operation: str, answer: UpstreamResponse) -> UpstreamResponse:
        status, provider = answer.status, self.provider
        if 200 <= status < 300 or (400 <= status < 500 and status not in _NOT_THE_CALLERS):
            if status >= 400:
                self._log(logging.INFO, operation, answer, "client error")
            return answer
        if status == 429:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            self._log(logging.WARNING, operation, answer, "rate limited")
            limited = ProviderRateLimited(
                f"{_name(provider)} is rate limiting the gateway; retry later",
                provider=provider,
                retry_after=retry_after,
            )
            # A 429 means the upstream refused the request before doing anything.
            raise AttemptFailed(limited, reached=False)
        if status in {401, 407}:
            self._log(logging.ERROR, operation, answer, "the gateway's credentials were rejected")
            raise ProviderUnavailable(
                f"{_name(provider)} rejected the gateway's credentials", provider=provider
            )
        if status in _CANCELLED:
            # ConductorOne answers both 408 and 499 for requests it cancelled (notes §6.2): an
            # outage like a 5xx, not something the caller did.
            self._log(logging.WARNING, operation, answer, "cancelled upstream")
            cancelled = ProviderUnavailable(f"{_name(provider)} is unavailable", provider=provider)
            raise Outage(cancelled, reached=True)
        if 300 <= status < 400:
            self._log(logging.ERROR, operation, answer, "unexpected redirect (not followed)")
            raise self.unreadable()
        self._log(logging.WARNING, operation, answer, "server error")
        unavailable = ProviderUnavailable(f"{_name(provider)} is unavailable", provider=provider)
        raise Outage(unavailable, reached=True)

    def read(self, model: type[_M], answer: UpstreamResponse, operation: str) -> _M:
        """The answer's body as the vendor's documented model, or `unreadable()` (logged)."""
        try:
            return model.model_validate(answer.json())
        except ValidationError as exc:
            self.log_unexpected(
                operation, answer, f"unexpected body shape: {exc.error_count()} errors"
            )
            raise self.unreadable() from exc

    def unreadable(self) -> ProviderUnavailable:
        """The error for an answer that does not have the shape the vendor documents."""
        return ProviderUnavailable(
            f"{_name(self.provider)} gave an answer the gateway could not read",
            provider=self.provider,
        )

    def log_unexpected(self, operation: str, answer: UpstreamResponse, why: str) -> None:
        self._log(logging.ERROR, operation, answer, why)

    def _log(self, level: int, operation: str, answer: UpstreamResponse, why: str) -> None:
        # The body goes to the log (truncated), never to the caller.
        excerpt = answer.body[:_LOG_EXCERPT].decode("utf-8", "replace")
        logger.log(
            level,
            "%s %s -> HTTP %s: %s (request id %s) body: %r",
            self.provider.value,
            operation,
            answer.status,
            why,
            answer.request_id or "-",
            excerpt,
        )


async def _read_capped(response: httpx.Response) -> bytes | None:
    """Read at most MAX_BODY_BYTES; None when the body is larger (it is then not read on)."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110)."""
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
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _mark_unknown(error: Exception, unknown_outcome: bool) -> None:
    if unknown_outcome and isinstance(error, ProviderUnavailable):
        error.may_have_acted = True


def _name(provider: Provider) -> str:
    return {Provider.CONDUCTORONE: "ConductorOne", Provider.CLERK: "Clerk"}[provider]
