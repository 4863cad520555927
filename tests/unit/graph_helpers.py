"""Shared bits of the Graph client's unit tests: a recording MockTransport, fake tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from libs.common.graph import GraphMail, RetryEvent, RetryPolicy
from libs.common.settings import GraphConfig, MailboxConfig

BASE = "https://graph.test/v1.0"
SECRET = "s3cr3t-Value~never-shown"


class FakeTokens:
    """Hands out numbered tokens; counts invalidations (msal is exercised in integration)."""

    def __init__(self) -> None:
        self.issued = 0
        self.invalidated = 0

    def token(self) -> str:
        self.issued += 1
        return f"token-{self.invalidated}"

    def invalidate(self) -> None:
        self.invalidated += 1


def graph_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {
        "error": {
            "code": code,
            "message": f"{code} happened",
            "innerError": {"request-id": "rid-1"},
        }
    }
    return httpx.Response(status, json=body, headers=headers or {})


def configs(address: str = "help@contoso.test", **graph: Any) -> tuple[GraphConfig, MailboxConfig]:
    return (
        GraphConfig(base_url=BASE, authority_host="https://login.test", **graph),
        MailboxConfig(
            address=address,
            tenant_id="tenant-1",
            client_id="client-1",
            client_secret=SecretStr(SECRET),
        ),
    )


class Recorder:
    """A MockTransport handler that records requests and answers from ``handler``."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def make_mail(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    address: str = "help@contoso.test",
    budget_s: float = 120.0,
    **graph: Any,
) -> tuple[GraphMail, Recorder, FakeTokens, list[float], list[RetryEvent]]:
    rec = Recorder(handler)
    tokens = FakeTokens()
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    graph_cfg, box = configs(address, **graph)
    mail = GraphMail(
        graph_cfg,
        box,
        tokens=tokens,
        transport=httpx.MockTransport(rec),
        policy=RetryPolicy(base_s=0.5, cap_s=8.0, budget_s=budget_s),
        sleep=sleeps.append,
        on_retry=events.append,
    )
    return mail, rec, tokens, sleeps, events
