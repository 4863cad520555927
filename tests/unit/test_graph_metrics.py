"""Graph requests, throttling and token failures show in the Prometheus metrics."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from libs.common.graph import GraphMail
from tests.unit.graph_helpers import FakeTokens, configs, graph_error, make_mail


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def ok_user(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "u1"})


def test_requests_by_status_and_throttles_are_counted() -> None:
    box = "metrics@contoso.test"
    before_200 = sample("mailpipe_graph_requests_total", mailbox=box, status="200")
    before_429 = sample("mailpipe_graph_requests_total", mailbox=box, status="429")
    before_throttled = sample("mailpipe_graph_throttled_total", mailbox=box)
    answers = iter([graph_error(429, "ApplicationThrottled", {"Retry-After": "1"})])
    mail, _, _, _, _ = make_mail(lambda r: next(answers, ok_user(r)), address=box)
    mail.get_user("x@contoso.test")
    assert sample("mailpipe_graph_requests_total", mailbox=box, status="200") == before_200 + 1
    assert sample("mailpipe_graph_requests_total", mailbox=box, status="429") == before_429 + 1
    assert sample("mailpipe_graph_throttled_total", mailbox=box) == before_throttled + 1


def test_retry_budget_comes_from_max_retry_s() -> None:
    graph, box = configs(max_retry_s=7.5)
    mail = GraphMail(
        graph,
        box,
        tokens=FakeTokens(),
        transport=httpx.MockTransport(ok_user),
        sleep=lambda s: None,
    )
    assert mail._http.policy.budget_s == 7.5
