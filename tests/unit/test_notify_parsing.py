"""The notification endpoint's pure parts: notifications read strictly (hostile bodies are
Malformed, never a crash), the validation token, the per-mailbox bound on hints."""

from __future__ import annotations

import json

import pytest

from services.notify.domain.gate import HintGate
from services.notify.domain.notifications import (
    MAX_BODY_BYTES,
    MAX_ITEMS,
    Malformed,
    Notification,
    parse,
    validation_token,
)

STATE = "c" * 40


def change(**fields: object) -> dict[str, object]:
    item: dict[str, object] = {
        "subscriptionId": "sub-1",
        "subscriptionExpirationDateTime": "2026-12-05T10:00:00.0000000Z",
        "changeType": "created",
        "resource": "Users/x/Messages/y",
        "resourceData": {"id": "y"},
        "clientState": STATE,
        "tenantId": "t-1",
    }
    item.update(fields)
    return item


def body(*items: object) -> bytes:
    return json.dumps({"value": list(items)}).encode()


def test_a_change_notification_reads_as_created() -> None:
    found = parse(body(change(), change(subscriptionId="sub-2")), lifecycle=False)
    assert found == [
        Notification("sub-1", STATE, "created"),
        Notification("sub-2", STATE, "created"),
    ]


def test_other_change_types_are_left_out() -> None:
    assert parse(body(change(changeType="updated")), lifecycle=False) == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("missed", "missed"),
        ("subscriptionRemoved", "removed"),
        ("reauthorizationRequired", "reauthorize"),
    ],
)
def test_lifecycle_events(event: str, reason: str) -> None:
    item = change(lifecycleEvent=event)
    del item["changeType"]
    assert parse(body(item), lifecycle=True) == [Notification("sub-1", STATE, reason)]  # type: ignore[arg-type]


def test_an_unknown_lifecycle_event_is_left_out() -> None:
    assert parse(body(change(lifecycleEvent="somethingNew")), lifecycle=True) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"value": {}}',
        b'{"value": []}',
        b'{"value": [1]}',
        b'{"value": ["x"]}',
        b"[" * 100_000 + b"]" * 100_000,
        body(change(subscriptionId=None)),
        body(change(subscriptionId="")),
        body(change(subscriptionId=7)),
        body(change(clientState={"a": 1})),
        body(change(clientState="x" * 10_000)),
        body(*[change()] * (MAX_ITEMS + 1)),
        b"\xff\xfe garbage",
    ],
)
def test_hostile_bodies_are_malformed(raw: bytes) -> None:
    with pytest.raises(Malformed) as caught:
        parse(raw, lifecycle=False)
    assert STATE not in str(caught.value)


def test_an_oversize_body_is_malformed_before_it_is_read() -> None:
    with pytest.raises(Malformed, match="too large"):
        parse(b" " * (MAX_BODY_BYTES + 1), lifecycle=False)


def test_the_client_state_is_not_in_the_repr() -> None:
    assert STATE not in repr(parse(body(change()), lifecycle=False))


def test_validation_token() -> None:
    assert validation_token(None) is None
    token = "Validation: Testing client application reachability for subscription Request-Id: 1"
    assert validation_token(token) == token
    assert validation_token("<script>") == "<script>"  # served as text/plain, nosniff
    for bad in ("", "x" * 5000, "a\nb", "a\x00b"):
        with pytest.raises(Malformed):
            validation_token(bad)


def test_the_gate_lets_one_hint_per_mailbox_per_spacing() -> None:
    gate = HintGate(spacing_s=1.0)
    delays = [gate.delay("a", t / 10) for t in range(25)]  # 2.5 s of a flood
    sent_at = sorted(t / 10 + d for t, d in enumerate(delays) if d is not None)
    assert sent_at == [0.0, 1.0, 2.0, 3.0], "at once, then one per second: the last deferred"
    assert gate.delay("b", 0.05) == 0.0, "another mailbox is not held"


def test_a_notification_within_the_spacing_is_deferred_not_dropped() -> None:
    gate = HintGate(spacing_s=1.0)
    assert gate.delay("a", 0.0) == 0.0
    assert gate.delay("a", 0.4) == pytest.approx(0.6), "its mail may have missed the round"
    assert gate.delay("a", 0.7) is None, "covered by the deferred hint"
    assert gate.delay("a", 1.5) == pytest.approx(0.5)
    assert gate.delay("a", 3.0) == 0.0


def test_the_gate_forgets_the_oldest_beyond_its_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.notify.domain.gate.MAX_REMEMBERED", 3)
    gate = HintGate()
    for box in "abcd":
        assert gate.delay(box, 0.0) == 0.0
    assert gate.delay("a", 0.1) == 0.0, "forgotten: a fresh hint"
    assert gate.delay("d", 0.1) != 0.0
