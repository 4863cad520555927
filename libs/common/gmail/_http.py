"""One Gmail request, done right: token, the user's quota, typed errors, retries.

Retries happen here and only here: Retry-After (or backoff) within the retry budget, a 401
once with a fresh token. A send that may have arrived is never sent twice: it raises
:class:`~libs.common.mail.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

import httpx

from libs.common.gmail._errors import error_from_response, transport_error
from libs.common.gmail._quota import UserQuota, cost
from libs.common.mail.errors import MailError, OutcomeUnknown, Throttled
from libs.common.mail.retry import RetryPolicy, parse_retry_after

log = logging.getLogger("mailpipe.gmail")

#: A request that never reached Google can always be sent again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Tokens(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


class GmailHttp:
    """Requests as one user (``/gmail/v1/users/me/…``), through that user's quota."""

    def __init__(
        self,
        api_url: str,
        user: str,
        tokens: Tokens,
        quota: UserQuota,
        *,
        client: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url, self.user = api_url, user
        self._tokens, self._quota, self._client = tokens, quota, client
        self._policy, self._sleep = policy, sleep
        self._local = threading.local()
        self.requests_sent = 0
        self.units_spent = 0

    @property
    def units_per_s(self) -> int:
        return self._quota.units_per_s

    def __repr__(self) -> str:
        return f"GmailHttp(user={self.user!r}, api_url={self.api_url!r})"

    @property
    def policy(self) -> RetryPolicy:
        override: RetryPolicy | None = getattr(self._local, "policy", None)
        return override or self._policy

    @contextmanager
    def retry_budget(self, budget_s: float) -> Iterator[None]:
        previous = getattr(self._local, "policy", None)
        shorter = min(max(budget_s, 0.0), self.policy.budget_s)
        self._local.policy = replace(self._policy, budget_s=shorter)
        try:
            yield
        finally:
            self._local.policy = previous

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else self.api_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        units: int | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        auth: bool = True,
        **send: Any,
    ) -> httpx.Response:
        """The successful response, or the typed error once retrying cannot or may not help.
        ``send``: httpx's ``json``, ``content``, ``headers``."""
        spend = cost(what) if units is None else units
        started, waited, attempt, refreshed = time.monotonic(), 0.0, 0, False
        while True:
            attempt += 1
            try:
                response = self._send(method, path, spend, params, auth, send)
            except httpx.TransportError as exc:
                arrived = not idempotent and not isinstance(exc, _NOT_SENT)
                err = transport_error(what, self.user, exc, arrived=arrived)
                if arrived:
                    raise err from None
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 401 and auth and not refreshed:
                    refreshed = True  # an expired or revoked token: once more with a new one
                    self._tokens.invalidate()
                    continue
                err = self._failure(response, what, idempotent)
            wait = self.policy.delay(attempt, err.retry_after_s)
            if max(time.monotonic() - started, waited) + wait > self.policy.budget_s:
                raise err
            self._log(attempt, method, what, err, wait)
            self._sleep(wait)
            waited += wait

    def _failure(self, response: httpx.Response, what: str, idempotent: bool) -> MailError:
        err = error_from_response(
            response.status_code,
            response.content,
            what=what,
            user=self.user,
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
        if not err.retryable:
            raise err
        if not idempotent and not isinstance(err, Throttled):
            unknown = OutcomeUnknown(err.message, code=err.code)
            unknown.status = err.status
            raise unknown  # a 5xx after the send arrived: it may have gone out
        return err

    def _send(
        self,
        method: str,
        path: str,
        units: int,
        params: Mapping[str, Any] | None,
        auth: bool,
        send: Mapping[str, Any],
    ) -> httpx.Response:
        headers = dict(send.get("headers") or {})
        if auth:
            headers["Authorization"] = f"Bearer {self._tokens.token()}"
        extra = {k: v for k, v in send.items() if k != "headers"}
        with self._quota.call(units, self._sleep):
            self.requests_sent += 1
            self.units_spent += units
            return self._client.request(
                method, self.url(path), params=params, headers=headers, **extra
            )

    def _log(self, attempt: int, method: str, what: str, err: MailError, wait: float) -> None:
        # One line at the series' first failure; throttling is Google pacing us, so INFO.
        level = logging.INFO if isinstance(err, Throttled) else logging.WARNING
        log.log(
            level if attempt == 1 else logging.DEBUG,
            "gmail request failed, retrying: %s %s on %s: %s %s; waiting %.2fs",
            what,
            method,
            self.user,
            err.status,
            err.code,
            wait,
        )
