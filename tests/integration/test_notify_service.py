"""``mailpipe notify`` as wired (``services/notify/app.py``) on a real port, broker and
database: the handshake over HTTP, a checked notification reaching a fetcher's hint queue,
readiness once listening, a clean stop."""

from __future__ import annotations

import queue
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from bench.procs import free_port
from libs.common.broker import Broker
from libs.common.broker.hints import HintListener
from libs.common.contracts import MailboxChanged
from libs.common.db.push_subscriptions import PushSubscriptionStore
from libs.common.service import Runtime
from libs.common.settings import MailpipeConfig, Settings
from services.notify.app import CannotListen, wire

STATE = "a-client-state-of-forty-characters-long!"


def test_the_wired_endpoint_serves_and_publishes(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    store = PushSubscriptionStore.open(url)
    store.save("sub-1", "help@contoso.com", STATE, datetime.now(UTC) + timedelta(days=1))
    port = free_port()
    monkeypatch.setenv("MAILPIPE_NOTIFY_PORT", str(port))
    settings = Settings(database_url=SecretStr(url))
    runtime = Runtime("notify", settings, MailpipeConfig(), broker, threading.Event())
    wiring = wire(runtime)
    heard: queue.Queue[MailboxChanged] = queue.Queue()
    listener = HintListener(broker.connection, broker.names, heard.put)
    threads = [threading.Thread(target=fn, name=name) for name, fn in wiring.loops]
    threads.append(threading.Thread(target=listener.run, args=(runtime.stop,)))
    for thread in threads:
        thread.start()
    try:
        assert listener.ready.wait(10)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(100):  # the server thread is starting: wait for its socket
                try:
                    client.get("/healthz")
                    break
                except httpx.ConnectError:
                    runtime.stop.wait(0.1)
            assert wiring.checks["endpoint"]() == (True, "listening")
            token = client.post("/notifications", params={"validationToken": "abc 123"})
            assert (token.status_code, token.text) == (200, "abc 123")
            item = {"subscriptionId": "sub-1", "changeType": "created", "clientState": STATE}
            answer = client.post("/notifications", json={"value": [item]})
            assert answer.status_code == 202
        hint = heard.get(timeout=10)
        assert (hint.mailbox, hint.subscription_id) == ("help@contoso.com", "sub-1")
    finally:
        runtime.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        wiring.close()
        store.close()
    assert not any(thread.is_alive() for thread in threads)


def test_a_taken_port_fails_the_start_in_one_line(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second endpoint on the same port does not run on without it."""
    url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        monkeypatch.setenv("MAILPIPE_NOTIFY_PORT", str(port))
        settings = Settings(database_url=SecretStr(url))
        runtime = Runtime("notify", settings, MailpipeConfig(), broker, threading.Event())
        with pytest.raises(CannotListen) as caught:
            wire(runtime)
    assert caught.value.message == f"the notification endpoint cannot listen on 127.0.0.1:{port}"
    assert caught.value.hint is not None and "MAILPIPE_NOTIFY_PORT" in caught.value.hint


def published() -> float:
    sample = REGISTRY.get_sample_value(
        "mailpipe_notify_hints_published_total", {"reason": "created"}
    )
    return sample or 0.0


def test_a_stopping_endpoint_still_sends_its_deferred_hint(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    store = PushSubscriptionStore.open(url)
    store.save("sub-1", "help@contoso.com", STATE, datetime.now(UTC) + timedelta(days=1))
    port = free_port()
    monkeypatch.setenv("MAILPIPE_NOTIFY_PORT", str(port))
    settings = Settings(database_url=SecretStr(url))
    runtime = Runtime("notify", settings, MailpipeConfig(), broker, threading.Event())
    wiring = wire(runtime)
    before = published()
    heard: queue.Queue[MailboxChanged] = queue.Queue()
    listening = threading.Event()  # stopped after the endpoint: it hears what the stop sent
    listener = HintListener(broker.connection, broker.names, heard.put)
    threads = [threading.Thread(target=fn, name=name) for name, fn in wiring.loops]
    hears = threading.Thread(target=listener.run, args=(listening,))
    for thread in [*threads, hears]:
        thread.start()
    try:
        assert listener.ready.wait(10)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(100):  # the server thread is starting: wait for its socket
                try:
                    client.get("/healthz")
                    break
                except httpx.ConnectError:
                    runtime.stop.wait(0.1)
            item = {"subscriptionId": "sub-1", "changeType": "created", "clientState": STATE}
            for _ in range(2):  # the second within the second: deferred
                assert client.post("/notifications", json={"value": [item]}).status_code == 202
        runtime.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        # Published by the time the endpoint's loop returned: the process may exit then.
        assert published() == before + 2
        hints = [heard.get(timeout=10), heard.get(timeout=10)]
        assert [h.mailbox for h in hints] == ["help@contoso.com"] * 2
    finally:
        runtime.stop.set()
        listening.set()
        hears.join(timeout=30)
        wiring.close()
        store.close()
