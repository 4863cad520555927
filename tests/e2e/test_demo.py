"""``mailpipe demo`` as a fresh user runs it: no RabbitMQ, no PostgreSQL, nothing configured.
It exits 0 and its output names the records, the empty inbox, the bounce and the replies sent;
with ``--follow`` it takes new mail sent the way it explains, and SIGTERM ends it with 0."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.ticketer.store import RecordStore
from tests.e2e.harness import REPO

SUBJECTS = (
    "Laptop won't connect to the VPN",
    "Facture n° 2026-1142 : montant erroné",
    "Printer on the 3rd floor jams",
    "Password reset for the customer portal",
)


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    # Brokers and databases that do not exist: the demo must use none of them.
    env.update(
        MAILPIPE_AMQP_URL="amqp://guest:guest@127.0.0.1:1//",
        MAILPIPE_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


def test_demo_prints_records_threads_mailbox_and_replies(tmp_path: Path) -> None:
    state = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "mailpipe", "demo", "--state-dir", str(state)],
        cwd=REPO,
        env=demo_env(),
        capture_output=True,
        timeout=600,
    )
    out = result.stdout.decode("utf-8", errors="replace")
    assert result.returncode == 0, out[-3000:] + result.stderr.decode(errors="replace")[-3000:]

    records_section = out[out.index("Records") : out.index("Threads")]
    for n, subject in enumerate(SUBJECTS, start=1):
        assert re.search(rf"\[#{n}\]\s+│ {re.escape(subject)}", records_section), subject
    assert "Vendor News" not in records_section, "the newsletter made no record"
    threads = out[out.index("Threads") : out.index("Mailbox support@contoso.com")]
    assert "reply" in threads and "It works again after the reboot" in threads
    assert "auto_reply" in threads and "Je suis absente" in threads
    assert "not delivered to sam.lee@nowhere.example: 5.1.1" in threads
    assert "attachment: facture-2026-1142.pdf" in threads
    mailbox = out[out.index("Mailbox support@contoso.com") : out.index("Replies sent")]
    assert re.search(r"Inbox\s+│\s+0 │", mailbox)
    assert re.search(r"Recoverable Items \(deleted, kept 30 days\)\s+│\s+8 │", mailbox)
    assert "The inbox is empty" in mailbox
    replies = out[out.index("Replies sent") :]
    for n, (address, subject) in enumerate(
        zip(
            (
                "jane.doe@fabrikam.example",
                "emilie.lefevre@example.fr",
                "juergen.mueller@contoso.com",
                "sam.lee@nowhere.example",
            ),
            SUBJECTS,
            strict=True,
        ),
        start=1,
    ):
        assert re.search(rf"{re.escape(address)}\s+│ Re: \[#{n}\] {re.escape(subject)}", replies)

    # What the output says is what the database holds.
    store = RecordStore.open(f"sqlite:///{state / 'mailpipe.db'}")
    try:
        records = store.list_records()
    finally:
        store.close()
    assert [r.subject for r in records] == list(SUBJECTS)
    assert [r.message_count for r in records] == [3, 3, 2, 3]


def test_demo_follow_takes_new_mail_and_stops_on_sigterm(tmp_path: Path) -> None:
    out_path = tmp_path / "demo.out"
    with out_path.open("wb") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailpipe", "demo", "--follow"],
            cwd=REPO,
            env=demo_env(),
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
        try:
            output = _wait_for_output(out_path, proc, "Ctrl-C stops the demo")
            found = re.search(r"curl --cacert (\S+) .* (https://\S+/messages)", output)
            assert found, output[-2000:]
            ca, url = found.groups()
            raw = (
                b"From: You <you@example.com>\r\nTo: support@contoso.com\r\n"
                b"Subject: Hello from the follow test\r\n\r\nMy printer is on fire.\r\n"
            )
            with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as client:
                answer = client.post(url, content=raw, headers={"Content-Type": "message/rfc822"})
            assert answer.status_code == 201
            _wait_for_output(out_path, proc, "new record: [#5] Hello from the follow test")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = out_path.read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "My printer is on fire." in output


def _wait_for_output(path: Path, proc: subprocess.Popen[bytes], text: str) -> str:
    deadline = time.monotonic() + 300
    while True:
        output = path.read_text(encoding="utf-8", errors="replace")
        if text in output:
            return output
        assert proc.poll() is None, f"demo exited ({proc.returncode}):\n{output[-3000:]}"
        assert time.monotonic() < deadline, f"never printed {text!r}:\n{output[-3000:]}"
        time.sleep(0.2)
