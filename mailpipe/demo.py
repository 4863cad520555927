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

import threading
from contextlib import ExitStack
from typing import TYPE_CHECKING

from rich.console import Console

from libs.common.record_token import record_token
from libs.graphsim.testing import SimHandle, running_simulator
from mailpipe import demo_mail, demo_view
from mailpipe.demo_setup import (
    POLL_INTERVAL_S,
    DemoOptions,
    demo_settings,
    pipeline_log_path,
    state_dir,
)
from mailpipe.demo_view import Snapshot
from mailpipe.demo_waves import DemoMailbox, run_waves
from mailpipe.embedded import start_embedded

if TYPE_CHECKING:
    from services.ticketer.store import RecordStore


def run_demo(options: DemoOptions, console: Console) -> int:
    """Run the demo; 0 when both waves went through (and, with ``follow``, after the signal)."""
    from services.ticketer.store import RecordStore

    with ExitStack() as stack:
        base = stack.enter_context(state_dir(options))
        sim = stack.enter_context(running_simulator(base / "graphsim", [demo_mail.MAILBOX]))
        sim.world.add_user(*demo_mail.COLLEAGUE)
        settings = demo_settings(options, base, sim)
        log_path = pipeline_log_path(options)
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

        done = run_waves(console, mailbox, snapshot, stop, options.wave_timeout_s)
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
