"""``examples/publish_outbound.py`` (plain pika, no mailpipe import) end to end: a sender
process sends its job through the simulator and the example prints the ``sent`` result."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.broker import Broker, Names
from libs.graphsim.testing import SimHandle
from tests.integration.test_sender_support import (
    CUSTOMER,
    MAILBOX,
    REPO,
    parsed,
    sender_env,
    sent_list,
    start_sender,
    stop_all,
    write_config,
)

EXAMPLE = REPO / "examples" / "publish_outbound.py"


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    b = Broker(amqp_url, Names(namespace))
    b.declare()
    try:
        yield b
    finally:
        b.close()
        b.delete()


def pika_url(amqp_url: str) -> str:
    """kombu reads ``host//`` as the vhost ``/``; pika wants it spelled ``/%2F``."""
    return amqp_url[:-2] + "/%2F" if amqp_url.endswith("//") else amqp_url


def run_example(amqp_url: str, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--amqp-url",
            pika_url(amqp_url),
            "--namespace",
            namespace,
            "--mailbox",
            MAILBOX,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_example_imports_nothing_of_mailpipe() -> None:
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert "pika" in modules
    assert not modules & {"libs", "services", "mailpipe", "kombu"}


def test_the_example_publishes_a_job_and_prints_its_sent_result(
    sim: SimHandle, broker: Broker, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml")
    env = sender_env(
        amqp_url, namespace, f"sqlite:///{tmp_path / 'mailpipe.db'}", config, tmp_path / "blobs"
    )
    proc = start_sender(env, tmp_path / "sender.log")
    job = (
        *("--to", CUSTOMER, "--subject", "Hello from another system"),
        *("--text", "Sent with plain pika.", "--job-id", "example-1", "--timeout", "90"),
    )
    try:
        done = run_example(amqp_url, namespace, *job)
        # The same job id again: answered from the job log, not sent twice.
        again = run_example(amqp_url, namespace, *job)
    finally:
        stop_all([proc])
    assert done.returncode == 0, done.stderr + (tmp_path / "sender.log").read_text()
    result = json.loads(done.stdout)
    assert result["job_id"] == "example-1" and result["status"] == "sent"
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "sent"
    (entry,) = sent_list(sim)
    msg = parsed(entry)
    assert msg["Subject"] == "Hello from another system"
    assert msg["Message-ID"] == result["internet_message_id"]
    assert [a.addr_spec for a in msg["To"].addresses] == [CUSTOMER]


def test_the_example_reports_a_rejected_job(
    sim: SimHandle, broker: Broker, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml")
    env = sender_env(
        amqp_url, namespace, f"sqlite:///{tmp_path / 'mailpipe.db'}", config, tmp_path / "blobs"
    )
    proc = start_sender(env, tmp_path / "sender.log")
    try:
        done = run_example(
            amqp_url,
            namespace,
            "--to",
            MAILBOX,
            "--subject",
            "Only to ourselves",
            "--text",
            "x",
            "--job-id",
            "example-self",
            "--timeout",
            "90",
        )
    finally:
        stop_all([proc])
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "rejected" and result["error_code"] == "no_recipients"
    assert sent_list(sim) == []
