"""``mailpipe dead list|show|retry|drop`` against RabbitMQ in the test's own namespace: the
output a person reads, and one line with exit 2 for everything that stops the command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from libs.common.broker import Broker
from libs.common.contracts import ProcessedEmail
from libs.common.errors import PermanentError
from mailpipe.cli import app
from tests.broker_helpers import (
    Recorder,
    consuming,
    drain,
    namespaced_broker,
    publish_processed,
    wait_until,
)

OUTBOUND = {
    "schema": "mailpipe.outbound_email.v1",
    "job_id": "job-42",
    "mailbox": "support@contoso.com",
    "subject": "pay now\x1b[31m\nFrom: ceo\u2028x",
    "to": [{"address": "a@example.com"}],
    "password": "hunter2",
}


@pytest.fixture
def env(amqp_url: str, namespace: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", amqp_url)
    monkeypatch.setenv("MAILPIPE_NAMESPACE", namespace)
    with namespaced_broker(amqp_url, namespace) as broker:
        yield broker


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["dead", *args])


def _park_one(broker: Broker) -> str:
    """One ProcessedEmail dead-lettered by the consumer loop (a permanent error)."""
    queue = broker.names.fetcher_processed

    def fail(message: ProcessedEmail, delivery: Any) -> None:
        raise PermanentError("mailbox gone", code="mailbox_not_found", hint="fix the config")

    message_id = publish_processed(broker, 0)
    with consuming(broker, queue, Recorder(fail=fail)):
        assert wait_until(lambda: broker.message_count(queue.dead) == 1)
    return message_id


def _put_foreign_job(
    broker: Broker, body: dict[str, Any] | None = None, headers: dict[str, Any] | None = None
) -> None:
    """A job another system published, parked with a hostile subject and a secret field."""
    conn = broker.connection()
    try:
        conn.connect()
        conn.Producer(auto_declare=False).publish(
            json.dumps({**OUTBOUND, **(body or {})}).encode(),
            exchange="",
            routing_key=broker.names.sender.dead,
            content_type="application/json",
            content_encoding="utf-8",
            message_id="foreign-job-0001",
            correlation_id="job-42",
            headers={
                "x-mailpipe-reason": "contract_violation",
                "x-mailpipe-error": "fetch amqp://admin:s3cret@rabbit:5672/ failed",
                **(headers or {}),
            },
            delivery_mode=2,
        )
    finally:
        conn.release()


def test_list_prints_counts_and_one_line_per_message(env: Broker) -> None:
    message_id = _park_one(env)
    _put_foreign_job(env)
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    names = env.names
    assert f"{names.fetcher_processed.dead}: 1 waiting" in lines
    assert f"{names.sender.dead}: 1 waiting" in lines
    assert f"{names.ticketer.dead}: 0 waiting" in lines
    assert len(lines) == len(names.work_queues) + 2  # one line per queue and per message
    (parked,) = [line for line in lines if message_id in line]
    assert "mailbox_not_found" in parked and "attempts 1" in parked
    assert "message_id=msg-0" in parked and "mailbox gone" in parked
    (job,) = [line for line in lines if "foreign-job-0001" in line]
    assert "job_id=job-42" in job
    assert "\\x1b" in job and "\\x0a" in job and "\\u2028" in job  # shown, never obeyed
    assert "\x1b" not in result.stdout and "\u2028" not in result.stdout
    assert "s3cret" not in result.stdout


def test_list_json_and_one_queue(env: Broker) -> None:
    message_id = _park_one(env)
    result = run("list", "--json", "--queue", "fetcher.processed")
    assert result.exit_code == 0, result.output
    (queue,) = json.loads(result.stdout)["queues"]
    assert queue["queue"] == env.names.fetcher_processed.dead and queue["waiting"] == 1
    (message,) = queue["messages"]
    assert message["id"] == message_id
    assert message["reason"] == "mailbox_not_found" and message["hint"] == "fix the config"
    assert message["what"]["message_id"] == "msg-0" and message["attempts"] == 1
    assert message["dead_at"]
    assert env.message_count(env.names.fetcher_processed.dead) == 1  # listing took nothing


def test_show_prints_headers_and_body_without_secrets(env: Broker) -> None:
    _put_foreign_job(env)
    result = run("show", "foreign-job")  # a prefix is enough
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["id"] == "foreign-job-0001" and shown["copies"] == 1
    assert shown["body"]["job_id"] == "job-42"
    assert shown["body"]["password"] == "***"
    assert "hunter2" not in result.stdout and "s3cret" not in result.stdout
    assert shown["headers"]["x-mailpipe-reason"] == "contract_violation"


def test_show_hides_secret_headers_and_fields_and_escapes_bidi(env: Broker) -> None:
    body = {
        "X-Api-Key": "k-hunter2pw",
        "subject": "invoice\u202egpj.exe",
        "link": "https://h/b?sig=s-hunter2pw&code=c-hunter2pw&access_token=a-hunter2pw",
    }
    _put_foreign_job(env, body, {"Authorization": "Bearer hunter2pw", "x-\u2066": "\u200e"})
    result = run("show", "foreign-job-0001")
    assert result.exit_code == 0, result.output
    assert "hunter2pw" not in result.stdout
    for raw in ("\u202e", "\u2066", "\u200e", "\u2028", "\x1b"):
        assert raw not in result.stdout
    shown = json.loads(result.stdout)
    assert shown["headers"]["Authorization"] == "***" and shown["body"]["X-Api-Key"] == "***"
    assert shown["body"]["subject"] == "invoice\\u202egpj.exe"
    assert shown["headers"]["x-\\u2066"] == "\\u200e"


def test_retry_of_an_id_that_is_gone_says_so(env: Broker) -> None:
    _park_one(env)
    result = run("retry", "mid-0")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "'mid-0' is not in any dead-letter queue (any more)" in result.stderr


def test_show_of_an_unknown_id_is_one_line_exit_1(env: Broker) -> None:
    _park_one(env)
    result = run("show", "0123456789abcdef")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "mailpipe dead list" in result.stderr


def test_retry_moves_the_message_back_once(env: Broker) -> None:
    message_id = _park_one(env)
    result = run("retry", message_id[:8])
    assert result.exit_code == 0, result.output
    queue = env.names.fetcher_processed
    assert result.stdout.strip() == f"retried 1 from {queue.dead} back to {queue.name}"
    assert env.message_count(queue.dead) == 0
    (back,) = drain(env, queue.name)
    assert ProcessedEmail.from_json(back.body).message_id == "msg-0"
    assert back.properties["message_id"] == message_id


def test_retry_all_and_drop_all(env: Broker) -> None:
    _park_one(env)
    _put_foreign_job(env)
    refused = run("drop", "--all")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert env.message_count(env.names.sender.dead) == 1
    dropped = run("drop", "--all", "--yes", "--queue", "sender")
    assert dropped.exit_code == 0, dropped.output
    assert env.message_count(env.names.sender.dead) == 0
    retried = run("retry", "--all")
    assert retried.exit_code == 0, retried.output
    assert env.message_count(env.names.fetcher_processed.dead) == 0
    assert env.message_count(env.names.fetcher_processed.name) == 1


@pytest.mark.parametrize(
    "args",
    [("retry",), ("retry", "abcdef", "--all"), ("show",), ("list", "--queue", "nope")],
)
def test_usage_mistakes_are_one_line_exit_2(env: Broker, args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.output


def _one_line_exit_2(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("mailpipe dead ") and result.stderr.count("\n") == 1
    for word in words:
        assert word in result.stderr


def test_broker_down_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", "amqp://guest:s3cret@127.0.0.1:1//")
    result = run("list")
    _one_line_exit_2(result, "no broker answers at 127.0.0.1:1", "MAILPIPE_AMQP_URL", "run")
    assert "s3cret" not in result.stderr


def test_wrong_password_is_one_line_exit_2(amqp_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    host = amqp_url.rsplit("@", 1)[1]
    monkeypatch.setenv("MAILPIPE_AMQP_URL", f"amqp://guest:wrong-s3cret@{host}")
    result = run("list")
    _one_line_exit_2(result, "password")
    assert "wrong-s3cret" not in result.stderr


def test_namespace_never_declared_is_one_line_exit_2(
    amqp_url: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", amqp_url)
    monkeypatch.setenv("MAILPIPE_NAMESPACE", namespace + "-never")
    for args in (("list",), ("retry", "--all"), ("show", "abcdef")):
        _one_line_exit_2(run(*args), "MAILPIPE_NAMESPACE")


def test_memory_broker_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_AMQP_URL", "memory://")
    _one_line_exit_2(run("list"), "memory://")


def test_retry_from_the_sender_says_what_a_retry_cannot_do(env: Broker) -> None:
    _put_foreign_job(env)
    result = run("retry", "foreign-job-0001")
    assert result.exit_code == 0, result.output
    first, note = result.stdout.splitlines()
    assert first == f"retried 1 from {env.names.sender.dead} back to {env.names.sender.name}"
    assert note.startswith("note: the sender answers a job it already answered")
    assert env.message_count(env.names.sender.name) == 1


def test_a_bad_namespace_setting_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPIPE_NAMESPACE", "no spaces allowed")
    _one_line_exit_2(run("list"), "MAILPIPE_NAMESPACE")
