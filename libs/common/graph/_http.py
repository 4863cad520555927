"""One Graph request, done right: token, Prefer header, mailbox gate, typed errors, retries.

Everything above this module speaks in operations; everything below it is httpx. Retries
happen here and only here, so the limits (Retry-After, backoff, the total retry budget, the
mailbox's concurrency and request budget) hold for every operation alike.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx

from libs.common.graph._limits import MailboxGate, gate_for
from libs.common.graph._retry import RetryPolicy, parse_retry_after
from libs.common.graph.errors import (
    GraphError,
    GraphThrottled,
    error_from_response,
    outcome_unknown,
    transport_error,
)
from libs.common.metrics import GRAPH_REQUESTS, GRAPH_THROTTLED
from libs.common.settings import GraphConfig

log = logging.getLogger("mailpipe.graph")

#: Graph's ids change on move unless every request asks for immutable ones.
PREFER_IMMUTABLE = 'IdType="ImmutableId"'


class TokenProvider(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass(frozen=True)
class RetryEvent:
    """What :class:`GraphHttp` reports before it waits and tries again (for metrics, tests)."""

    what: str
    attempt: int
    status: int | None
    code: str
    retry_after_s: float | None
    wait_s: float


# A request that never reached Graph can always be sent again, even a non-idempotent POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class _Attempts:
    """One request's series of attempts: its retry policy, when it started, how many attempts
    so far, how long they waited, and whether the token was refreshed once already."""

    policy: RetryPolicy
    started: float
    count: int = 0
    waited: float = 0.0
    refreshed: bool = False


def _transport_failure(what: str, exc: httpx.TransportError, *, idempotent: bool) -> GraphError:
    """The error of a request that got no answer, to retry; raised at once when the request
    may have arrived and must not be sent twice."""
    err = transport_error(what, exc)
    if not idempotent and not isinstance(exc, _NOT_SENT):
        raise outcome_unknown(err) from None
    return err


def _response_failure(response: httpx.Response, what: str, *, idempotent: bool) -> GraphError:
    """The error of a failed response, to retry; raised at once when retrying cannot help
    or may do the work twice."""
    err = error_from_response(
        response.status_code,
        response.content,
        request_id=response.headers.get("request-id"),
        retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        what=what,
    )
    if not err.retryable:
        raise err
    if not idempotent and response.status_code != 429:
        # A 5xx after the request arrived: it may have been done (429: it was not).
        raise outcome_unknown(err)
    return err


class GraphHttp:
    """Sends requests for one mailbox through its gate, with retries and typed errors."""

    def __init__(
        self,
        graph: GraphConfig,
        mailbox: str,
        tokens: TokenProvider,
        *,
        client: httpx.Client,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.base_url = graph.base_url
        self.mailbox = mailbox
        self.gate: MailboxGate = gate_for(
            graph.base_url, mailbox, graph.max_concurrency, graph.budget_per_10_min
        )
        self._policy = policy or RetryPolicy(budget_s=graph.max_retry_s)
        #: A shorter retry budget for the calls of one thread (see :meth:`retry_budget`).
        self._local = threading.local()
        self._tokens = tokens
        self._client = client
        self._sleep = sleep
        self._clock = clock
        self._on_retry = on_retry
        self.requests_sent = 0

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy of this thread's calls now (the client's, or a shorter budget)."""
        override: RetryPolicy | None = getattr(self._local, "policy", None)
        return override or self._policy

    @contextmanager
    def retry_budget(self, budget_s: float) -> Iterator[None]:
        """Within the block, this thread's calls retry for at most ``budget_s`` seconds (never
        longer than the client's own budget); other threads are not affected."""
        previous = getattr(self._local, "policy", None)
        shorter = min(max(budget_s, 0.0), self.policy.budget_s)
        self._local.policy = replace(self._policy, budget_s=shorter)
        try:
            yield
        finally:
            self._local.policy = previous

    def url(self, path_or_url: str) -> str:
        """Absolute URLs (nextLink, deltaLink, uploadUrl) are used exactly as given."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return self.base_url + path_or_url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        prefer: Sequence[str] = (),
        idempotent: bool = True,
        auth: bool = True,
    ) -> httpx.Response:
        """The successful response, or the typed error once retrying cannot or may not help.

        ``idempotent=False`` (sendMail, copy): only a 429 or a request that never left is
        retried, because after a timeout or a 5xx Graph may have done the work already; that
        case raises :class:`GraphOutcomeUnknown` (a :class:`GraphUnavailable`).
        """
        series = _Attempts(started=self._clock(), policy=self.policy)
        while True:
            series.count += 1
            try:
                response = self._send(
                    method, path_or_url, params, json, content, headers, prefer, auth
                )
            except httpx.TransportError as exc:
                err: GraphError = _transport_failure(what, exc, idempotent=idempotent)
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and auth and not series.refreshed:
                    # An expired or revoked token: drop it and try once with a fresh one.
                    series.refreshed = True
                    self._tokens.invalidate()
                    continue
                err = _response_failure(response, what, idempotent=idempotent)
            self._before_retry(series, method, path_or_url, what, err)

    def _before_retry(
        self, series: _Attempts, method: str, path_or_url: str, what: str, err: GraphError
    ) -> None:
        """Log the series' first failure, then sleep before the next attempt; raise ``err``
        when that would overrun the retry budget."""
        if series.count == 1:
            self._first_failure(method, path_or_url, what, err)
        wait = series.policy.delay(series.count, err.retry_after_s)
        # Waited time counts even when the clock disagrees (an injected sleep in tests).
        if max(self._clock() - series.started, series.waited) + wait > series.policy.budget_s:
            raise err
        self._report(what, series.count, err, wait)
        self._sleep(wait)
        series.waited += wait

    def _send(
        self,
        method: str,
        path_or_url: str,
        params: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        prefer: Sequence[str],
        auth: bool,
    ) -> httpx.Response:
        all_headers = {"Prefer": ", ".join((PREFER_IMMUTABLE, *prefer))}
        if auth:
            # Outside the gate: the token authority is not the mailbox.
            all_headers["Authorization"] = f"Bearer {self._tokens.token()}"
        all_headers.update(headers or {})
        with self.gate.slot(self._sleep):
            self.requests_sent += 1
            try:
                response = self._client.request(
                    method,
                    self.url(path_or_url),
                    params=params,
                    json=json,
                    content=content,
                    headers=all_headers,
                )
            except httpx.TransportError:
                GRAPH_REQUESTS.labels(self.mailbox, "0").inc()
                raise
        GRAPH_REQUESTS.labels(self.mailbox, str(response.status_code)).inc()
        if response.status_code == 429:
            GRAPH_THROTTLED.labels(self.mailbox).inc()
        return response

    def _first_failure(self, method: str, path_or_url: str, what: str, err: GraphError) -> None:
        """One line per series of attempts, at its first failure (the retries that follow are
        DEBUG): a read that keeps failing is seen at once, not when the budget is spent.
        Throttling is Graph pacing us, so INFO; the path never carries the query string."""
        level = logging.INFO if isinstance(err, GraphThrottled) else logging.WARNING
        log.log(
            level,
            "graph request failed, retrying: %s %s %s on %s: %s %s (request-id %s)",
            what,
            method,
            httpx.URL(self.url(path_or_url)).path,
            self.mailbox,
            err.status,
            err.code,
            err.request_id,
        )

    def _report(self, what: str, attempt: int, err: GraphError, wait: float) -> None:
        log.debug(
            "graph retry: %s on %s attempt %d: %s %s (request-id %s); waiting %.2fs",
            what,
            self.mailbox,
            attempt,
            err.status,
            err.code,
            err.request_id,
            wait,
        )
        if self._on_retry is not None:
            self._on_retry(RetryEvent(what, attempt, err.status, err.code, err.retry_after_s, wait))
