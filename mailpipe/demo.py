"""``mailpipe demo``: the Graph simulator, sample mail and the embedded pipeline, in one process.

Nothing outside the process is needed: the simulator serves Graph and the token endpoint over
HTTPS on a free port, kombu's ``memory://`` is the broker, SQLite the database, and everything
lives in a temporary directory (or ``--state-dir``). The demo seeds the first wave of
:mod:`mailpipe.demo_mail`, waits until the inbox is empty and the acknowledgements are sent,
seeds the second wave (answers to those acknowledgements), waits again, then prints records,
threads, the mailbox and the replies. Progress and results are read the way an outsider
would: the simulator's control API and the records database.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live

from libs.common.record_token import record_token
from libs.common.settings import Settings
from libs.graphsim.testing import SimHandle, running_simulator
from mailpipe import demo_mail, demo_view
from mailpipe.demo_view import Snapshot
from mailpipe.embedded import MEMORY_URL, start_embedded

if TYPE_CHECKING:
    from services.ticketer.store import RecordStore

POLL_INTERVAL_S = 1.0
#: How long one wave may take before the demo gives up and says so (a guard, not a target).
WAVE_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class DemoOptions:
    state_dir: Path | None = None
    follow: bool = False
    database_url: str | None = None
    blob_dir: Path | None = None
    wave_timeout_s: float = WAVE_TIMEOUT_S


class DemoMailbox:
    """The demo mailbox through the simulator's control API."""

    def __init__(self, sim: SimHandle, address: str) -> None:
        self.sim = sim
        self.address = address
        self._http = sim.control()

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str) -> Any:
        answer = self._http.get(f"/_sim/mailboxes/{self.address}{path}")
        answer.raise_for_status()
        return answer.json()

    def seed(self, raw: bytes) -> None:
        answer = self._http.post(
            f"/_sim/mailboxes/{self.address}/messages",
            content=raw,
            headers={"Content-Type": "message/rfc822"},
        )
        answer.raise_for_status()

    def folders(self) -> dict[str, int]:
        return dict(self._get("")["folders"])

    def sent(self) -> list[dict[str, Any]]:
        return list(self._get("/sent"))


def write_config(path: Path, sim: SimHandle, **mailbox: Any) -> Path:
    """The mailpipe TOML for the demo mailbox against ``sim`` (it holds a secret: 0600)."""
    q = json.dumps  # TOML basic strings accept JSON string escapes
    lines = [
        "# Written by `mailpipe demo`: Graph and the token authority are the simulator.",
        "[graph]",
        f"base_url = {q(sim.base_url)}",
        f"authority_host = {q(sim.authority_host)}",
        f"ca_bundle = {q(str(sim.ca_bundle))}",
        "",
        "[[mailboxes]]",
        f"address = {q(demo_mail.MAILBOX)}",
        f"tenant_id = {q(sim.tenant_id)}",
        f"client_id = {q(sim.client_id)}",
        f"client_secret = {q(sim.client_secret)}",
        *(f"{key} = {json.dumps(value)}" for key, value in mailbox.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def acks_by_recipient(sent: list[dict[str, Any]]) -> dict[str, demo_mail.SentMail]:
    out: dict[str, demo_mail.SentMail] = {}
    for mail in sent:
        for to in mail.get("to", []):
            address = str(to.get("address", "") if isinstance(to, dict) else to).lower()
            out[address] = demo_mail.SentMail(
                str(mail.get("subject", "")), str(mail["internet_message_id"])
            )
    return out


@contextmanager
def _state_dir(options: DemoOptions) -> Iterator[Path]:
    if options.state_dir is not None:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        yield options.state_dir.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="mailpipe-demo-") as tmp:
        yield Path(tmp)


def _log_path(options: DemoOptions) -> Path:
    """Where the pipeline's log goes: the state directory, or else a file of its own in the
    temporary directory, which outlives the demo (the path printed must still be there when
    the demo says "see the log")."""
    if options.state_dir is not None:
        return options.state_dir.resolve() / "mailpipe.log"
    handle, name = tempfile.mkstemp(prefix="mailpipe-demo-", suffix=".log")
    os.close(handle)
    return Path(name)


def _fresh_database(base: Path) -> Path:
    """The demo's own SQLite file, emptied: each run starts from record 1 (the simulator's
    mailbox is new each time too); it stays for inspection until the next run."""
    path = base / "mailpipe.db"
    for old in (path, base / "mailpipe.db-wal", base / "mailpipe.db-shm"):
        old.unlink(missing_ok=True)
    return path


def run_demo(options: DemoOptions, console: Console) -> int:
    """Run the demo; 0 when both waves went through (and, with ``follow``, after the signal)."""
    from services.ticketer.store import RecordStore

    with ExitStack() as stack:
        base = stack.enter_context(_state_dir(options))
        sim = stack.enter_context(running_simulator(base / "graphsim", [demo_mail.MAILBOX]))
        sim.world.add_user(*demo_mail.COLLEAGUE)
        settings = Settings(
            amqp_url=MEMORY_URL,
            namespace="demo",
            database_url=options.database_url or f"sqlite:///{_fresh_database(base)}",
            blob_dir=options.blob_dir or base / "blobs",
            config=write_config(
                base / "mailpipe.toml",
                sim,
                auto_acknowledge=True,
                # The demo is contoso's own helpdesk: its colleagues are answered too.
                auto_ack_own_domain=True,
                poll_interval_s=POLL_INTERVAL_S,
            ),
            health_port=None,
        )
        log_path = _log_path(options)
        console.print(
            f"Graph simulator on {sim.authority_host}; pipeline log: {log_path}", markup=False
        )
        log_file = stack.enter_context(log_path.open("a", encoding="utf-8"))
        # SIGTERM/SIGINT end the demo's waits; the pipeline then drains like `mailpipe run`.
        stop = threading.Event()
        embedded = start_embedded(settings, log_stream=log_file, signals=stop)
        stack.callback(embedded.stop)
        mailbox = DemoMailbox(sim, demo_mail.MAILBOX)
        stack.callback(mailbox.close)
        store = RecordStore.open(settings.database_url.get_secret_value(), migrate=False)
        stack.callback(store.close)

        def snapshot() -> Snapshot:
            return Snapshot(mailbox.folders(), len(mailbox.sent()), len(store.list_records()))

        done = _waves(console, mailbox, snapshot, stop, options.wave_timeout_s)
        token_format = settings.load_config().mailboxes[0].record_token_format
        _print_results(console, mailbox, store, token_format)
        if not done:
            console.print(
                f"[red]The demo did not finish (stopped or timed out); see {log_path}.[/red]"
            )
            return 1
        if options.follow:
            _follow(console, sim, store, token_format, stop)
        return 0
    raise AssertionError("unreachable")  # ExitStack does not swallow exceptions


def _waves(
    console: Console,
    mailbox: DemoMailbox,
    snapshot: Callable[[], Snapshot],
    stop: threading.Event,
    timeout_s: float,
) -> bool:
    first = demo_mail.first_wave()
    for mail in first:
        mailbox.seed(mail.raw)
        console.print(f"  seeded {mail.what}")
    acks = sum(m.acknowledged for m in first)
    with Live(demo_view.status("first wave", snapshot()), console=console) as live:
        ok = _wait(
            live,
            "first wave: requests in, acknowledgements out",
            snapshot,
            lambda s: s.inbox == 0 and s.recoverable >= len(first) and s.sent >= acks,
            stop,
            timeout_s,
        )
    console.print()
    if not ok:
        return False
    second = demo_mail.second_wave(acks_by_recipient(mailbox.sent()))
    for mail in second:
        mailbox.seed(mail.raw)
        console.print(f"  seeded {mail.what}")
    total = len(first) + len(second)
    with Live(demo_view.status("second wave", snapshot()), console=console) as live:
        ok = _wait(
            live,
            "second wave: a reply, an out-of-office, a bounce",
            snapshot,
            lambda s: s.inbox == 0 and s.recoverable >= total,
            stop,
            timeout_s,
        )
    console.print()
    return ok


def _wait(
    live: Live,
    phase: str,
    snapshot: Callable[[], Snapshot],
    done: Callable[[Snapshot], bool],
    stop: threading.Event,
    timeout_s: float,
) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        snap = snapshot()
        live.update(demo_view.status(phase, snap))
        if done(snap):
            return True
        if stop.wait(0.25) or time.monotonic() > deadline:
            return False


def _print_results(
    console: Console, mailbox: DemoMailbox, store: RecordStore, token_format: str
) -> None:
    records = store.list_records()
    console.print()
    console.print(demo_view.records_table(records, token_format))
    console.print()
    console.print("[bold]Threads[/bold]")
    for record in records:
        detail = store.get_record(record.id)
        if detail is not None:
            console.print(demo_view.thread(detail, token_format))
    console.print()
    sent = mailbox.sent()
    folders = mailbox.folders()
    console.print(demo_view.mailbox_table(mailbox.address, folders, len(sent)))
    if folders.get("inbox", 0) == 0:
        console.print("The inbox is empty: every mail became part of a record or was set aside.")
    console.print()
    console.print(demo_view.replies_table(sent))


def _follow(
    console: Console, sim: SimHandle, store: RecordStore, token_format: str, stop: threading.Event
) -> None:
    url = f"{sim.authority_host}/_sim/mailboxes/{demo_mail.MAILBOX}/messages"
    console.print()
    console.print("[bold]Following.[/bold] Send a mail to the demo mailbox, for example:")
    console.print(
        "  printf 'From: You <you@example.com>\\r\\nTo: support@contoso.com\\r\\n"
        "Subject: Hello\\r\\n\\r\\nMy printer is on fire.\\r\\n' |\n"
        f"  curl --cacert {sim.ca_bundle} -H 'Content-Type: message/rfc822' "
        f"--data-binary @- {url}",
        soft_wrap=True,
        highlight=False,
    )
    console.print("Ctrl-C stops the demo.")
    seen = {r.id: r.message_count for r in store.list_records()}
    while not stop.wait(POLL_INTERVAL_S):
        for record in store.list_records():
            if seen.get(record.id) == record.message_count:
                continue
            detail = store.get_record(record.id)
            if detail is not None:
                new = detail.messages[seen.get(record.id, 0) :]
                state = "new record" if record.id not in seen else "updated"
                token = record_token(record.id, token_format)
                console.print(f"{state}: {token} {record.subject}", markup=False)
                for message in new:
                    for line in demo_view.message_lines(message):
                        console.print(line)
            seen[record.id] = record.message_count
