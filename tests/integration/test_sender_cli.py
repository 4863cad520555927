"""``mailpipe send`` publishes a job (small files inline, large ones as blob references) and
with ``--wait`` prints its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.broker import Broker
from libs.graphsim.testing import SimHandle
from mailpipe.cli_send_job import INLINE_ATTACHMENT_BYTES, attachment_entry
from tests.broker_helpers import namespaced_broker
from tests.integration.test_sender_support import (
    CUSTOMER,
    MAILBOX,
    REPO,
    parsed,
    seed_record,
    sender_in_process,
    sent_list,
    set_send_as,
)


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    with namespaced_broker(amqp_url, namespace) as b:
        yield b


def mailpipe_send(
    amqp_url: str, namespace: str, blob_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    env.update(
        MAILPIPE_AMQP_URL=amqp_url, MAILPIPE_NAMESPACE=namespace, MAILPIPE_BLOB_DIR=str(blob_dir)
    )
    return subprocess.run(
        [sys.executable, "-m", "mailpipe", "send", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_small_files_go_inline_and_large_ones_as_blob_references(tmp_path: Path) -> None:
    small, large = tmp_path / "note.txt", tmp_path / "big.bin"
    small.write_bytes(b"hello")
    large.write_bytes(b"x" * (INLINE_ATTACHMENT_BYTES + 1))
    stored: list[bytes] = []

    def put(data: bytes) -> object:
        from libs.common.contracts import BlobRef

        stored.append(data)
        return BlobRef(sha256="b" * 64, size=len(data))

    inline = attachment_entry(small, put)
    blob = attachment_entry(large, put)
    assert inline["content_base64"] == "aGVsbG8=" and inline["content_type"] == "text/plain"
    assert blob["blob"] == {"sha256": "b" * 64, "size": INLINE_ATTACHMENT_BYTES + 1}
    assert stored == [large.read_bytes()]


def test_mailpipe_send_wait_prints_the_sent_result(
    sim: SimHandle, broker: Broker, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    blob_dir = tmp_path / "blobs"
    html = tmp_path / "answer.html"
    html.write_text("<p>Fixed.</p>", encoding="utf-8")
    small, large = tmp_path / "note.txt", tmp_path / "log.bin"
    small.write_bytes(b"see the log")
    large.write_bytes(os.urandom(INLINE_ATTACHMENT_BYTES + 10))
    set_send_as(sim, ["alice@contoso.com"])
    config = sim.config(send_as=["alice@contoso.com"])
    seed_record(f"sqlite:///{tmp_path / 'm.db'}", 7)
    with sender_in_process(broker, config, f"sqlite:///{tmp_path / 'm.db'}", blob_dir):
        done = mailpipe_send(
            amqp_url, namespace, blob_dir,
            "--mailbox", MAILBOX, "--to", CUSTOMER, "--cc", "boss@example.org",
            "--from", "alice@contoso.com", "--subject", "Your ticket",
            "--html-file", str(html), "--attach", str(small), "--attach", str(large),
            "--record", "7", "--job-id", "cli-1", "--wait", "--timeout", "60",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "sent" and result["job_id"] == "cli-1"
    assert result["sent_as"] == "alice@contoso.com"
    (entry,) = sent_list(sim)
    msg = parsed(entry)
    assert msg["Subject"] == "[#7] Your ticket"
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["boss@example.org"]
    files = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert files["log.bin"] == large.read_bytes()
    assert files["note.txt"] in ("see the log", b"see the log")


def test_mailpipe_send_wait_exits_1_on_a_rejection(
    sim: SimHandle, broker: Broker, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    blob_dir = tmp_path / "blobs"
    with sender_in_process(broker, sim.config(), f"sqlite:///{tmp_path / 'm.db'}", blob_dir):
        done = mailpipe_send(
            amqp_url, namespace, blob_dir,
            "--mailbox", MAILBOX, "--to", CUSTOMER, "--from", "mallory@contoso.com",
            "--subject", "x", "--body", "y", "--wait", "--timeout", "60",
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["error_code"] == "send_as_not_allowed"
    assert sent_list(sim) == []


def test_mailpipe_send_refuses_a_job_that_breaks_the_contract(
    amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    done = mailpipe_send(
        amqp_url, namespace, tmp_path,
        "--mailbox", MAILBOX, "--to", "not an address", "--subject", "x", "--body", "y",
    )  # fmt: skip
    assert done.returncode == 2
    assert "mailpipe send:" in done.stderr and "to" in done.stderr
