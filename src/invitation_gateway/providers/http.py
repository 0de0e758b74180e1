"""The one path every upstream call takes.

`UpstreamClient` wraps one pooled `httpx.AsyncClient` per connection (opened and closed by the app
lifespan). It owns what is the same for every vendor: authentication (an `httpx.Auth`: a static
bearer or the ConductorOne OAuth flow), timeouts and the call's total budget, safe retries and
the circuit breaker (`reliability.py`), never following redirects, a cap on how much of a body
is read, and turning transport failures into domain errors. Which answers adapters see and
which become errors (5xx, 429, rejected credentials) is `answers.py`'s screening: adapters get
back an `UpstreamResponse` only for answers they must interpret themselves (2xx and the
explainable 4xx). Each attempt is reported once, however it ends (`observation.py`: its log
line, metrics and span). Request paths and their templates are `paths.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

import httpx
import stamina
from pydantic import BaseModel

from .. import __version__
from ..domain.errors import ProviderRateLimited, ProviderTimeout, ProviderUnavailable
from ..domain.invitations import Provider
from ..telemetry import Telemetry
from .answers import AnswerScreen, UpstreamResponse, excerpt, provider_name
from .auth import AuthFlowError
from .base import UPSTREAM_REQUEST_IDS
from .observation import Attempt, CallObserver
from .paths import QueryParams, UpstreamPath
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
from .transport import AiohttpTransport

logger = logging.getLogger(__name__)

_POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20)
MAX_BODY_BYTES = 1 << 20  # an invitation answer is a few kB; more than 1 MiB is not one


_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class _Call:
    """One logical upstream call, as every attempt of it is sent."""

    method: str
    path: UpstreamPath
    operation: str
    json_body: object | None
    params: QueryParams | None


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
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is the wall clock in Unix seconds: a `Retry-After` date is read against it."""
        self.provider = provider
        self.name = name
        self._telemetry = telemetry
        self.base_url = base_url
        self.reliability = reliability or Reliability()
        self.breaker = CircuitBreaker(f"{provider.value}/{name}", self.reliability)
        self._answers = AnswerScreen(provider, clock=clock)
        self._request_id_header = request_id_header
        self._observer = CallObserver(telemetry, provider.value, name, httpx.URL(base_url).host)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            # aiohttp underneath httpx's API: half the CPU per call (transport.py); it carries
            # the pool's limits (httpx ignores `limits=` once a transport is given).
            transport=transport or AiohttpTransport(limits=_POOL),
            timeout=self.reliability.httpx_timeout(),
            # ConductorOne redirects ids like "" or "." to the collection (conductorone-notes.md
            # §6.1): following that would act on the wrong resource, so a 3xx is an error.
            follow_redirects=False,
            headers={
                "User-Agent": f"invitation-gateway/{__version__}",
                "Accept": "application/json",
                **(headers or {}),
            },
        )

    def read(self, model: type[_M], answer: UpstreamResponse, operation: str) -> _M:
        """The answer's body as the vendor's documented model, or `unreadable()` (logged)."""
        return self._answers.read(model, answer, operation)

    def unreadable(self) -> ProviderUnavailable:
        """The error for an answer that does not have the shape the vendor documents."""
        return self._answers.unreadable()

    def log_unexpected(self, operation: str, answer: UpstreamResponse, why: str) -> None:
        self._answers.log(logging.ERROR, operation, answer, why)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        url_path: UpstreamPath,
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
        # Budgets, timeouts and durations (here, `retry_decision`, `_attempt`) measure intervals,
        # not dates: they read the monotonic clock (or perf_counter), which no wall-clock step
        # or test travel moves, and take no injected clock. Code that reads the date does.
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
                        answer = await self._guarded(call, deadline, attempt.num)
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

    async def _guarded(self, call: _Call, deadline: float, number: int) -> UpstreamResponse:
        """One attempt, through the circuit breaker and within what is left of the budget."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:  # spent waiting between attempts: no attempt is made
            raise self._over_budget(call.operation)
        try:
            async with self.breaker.guard():
                try:
                    async with asyncio.timeout(remaining):
                        return await self._attempt(call, number)
                except TimeoutError as exc:
                    # The call's budget ran out mid-attempt (e.g. a trickling body): an outage.
                    raise Outage(self._over_budget(call.operation), reached=True) from exc
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                f"{provider_name(self.provider)} is unavailable (failing fast after repeated errors)",
                provider=self.provider,
            ) from exc

    def _over_budget(self, operation: str) -> ProviderTimeout:
        # The cut attempt's own line says `cancelled`; the request's line says UPSTREAM_TIMEOUT.
        logger.debug(
            "%s %s exceeded its %.1fs budget",
            self.provider.value,
            operation,
            self.reliability.total_timeout,
        )
        return self._timed_out()

    def _timed_out(self) -> ProviderTimeout:
        return ProviderTimeout(
            f"{provider_name(self.provider)} did not answer in time", provider=self.provider
        )

    async def _attempt(self, call: _Call, number: int) -> UpstreamResponse:
        """One HTTP exchange, observed: one log line, its metrics and (tracing on) a span."""
        attempt = Attempt(call.method, call.path.template, call.operation, number)
        started = time.perf_counter()
        span = self._observer.start_span(attempt)  # None unless tracing is on
        try:
            return await self._exchange(call, attempt, span.headers if span else None)
        except asyncio.CancelledError:
            attempt.status = "cancelled"  # its call's budget ran out, or its caller went away
            raise
        finally:
            self._observer.observe(attempt, time.perf_counter() - started, span)

    async def _exchange(
        self, call: _Call, attempt: Attempt, headers: dict[str, str] | None
    ) -> UpstreamResponse:
        """One HTTP exchange: the answer, or an `AttemptFailed` saying whether it reached."""
        operation = call.operation
        try:
            async with self._client.stream(
                call.method, call.path, json=call.json_body, params=call.params, headers=headers
            ) as response:
                attempt.answered(
                    response.status_code, response.headers.get(self._request_id_header)
                )
                body = await _read_capped(response)
        except httpx.DecodingError as exc:  # a body its Content-Encoding does not describe
            attempt.failed("undecodable", exc)
            raise Outage(self.unreadable(), reached=True) from exc
        except httpx.TimeoutException as exc:
            attempt.failed("timeout", exc)
            raise Outage(self._timed_out(), reached=not never_reached(exc)) from exc
        except httpx.TransportError as exc:
            attempt.failed("transport_error", exc)
            unavailable = ProviderUnavailable(
                f"{provider_name(self.provider)} could not be reached", provider=self.provider
            )
            raise Outage(unavailable, reached=not never_reached(exc)) from exc
        except AuthFlowError as exc:
            # The auth flow could not obtain a credential (e.g. ConductorOne's token exchange).
            # Its message holds the token endpoint's status and an excerpt of its answer, never
            # the client secret.
            attempt.failed("no_token", exc)
            if exc.status == 429:
                raise ProviderRateLimited(
                    f"{provider_name(self.provider)} is rate limiting the gateway; retry later",
                    provider=self.provider,
                    retry_after=exc.retry_after,
                ) from exc
            if exc.status is not None and 400 <= exc.status < 500:
                raise ProviderUnavailable(
                    f"{provider_name(self.provider)} rejected the gateway's client credentials",
                    provider=self.provider,
                ) from exc
            raise ProviderUnavailable(
                f"{provider_name(self.provider)} could not issue the gateway an access token",
                provider=self.provider,
            ) from exc

        answer = UpstreamResponse(
            status=response.status_code,
            headers=response.headers,
            body=body or b"",
            request_id=attempt.request_id,
        )
        heard = UPSTREAM_REQUEST_IDS.get()
        if heard is not None and answer.request_id:
            heard.append(answer.request_id)
        if body is None:
            self._answers.log(logging.ERROR, operation, answer, "body exceeded the size cap")
            raise self.unreadable()
        if answer.status >= 300:
            attempt.excerpt = excerpt(answer)
        return self._answers.screen(operation, answer)


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


def _mark_unknown(error: Exception, unknown_outcome: bool) -> None:
    if unknown_outcome and isinstance(error, ProviderUnavailable):
        error.may_have_acted = True
