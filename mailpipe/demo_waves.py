"""The demo's two waves of mail: seeded into the demo mailbox through the simulator's control
API, then watched (live) until the pipeline has dealt with them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live

from libs.graphsim.testing import SimHandle
from mailpipe import demo_mail, demo_view
from mailpipe.demo_view import Snapshot


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


def acks_by_recipient(sent: list[dict[str, Any]]) -> dict[str, demo_mail.SentMail]:
    out: dict[str, demo_mail.SentMail] = {}
    for mail in sent:
        for to in mail.get("to", []):
            address = str(to.get("address", "") if isinstance(to, dict) else to).lower()
            out[address] = demo_mail.SentMail(
                str(mail.get("subject", "")), str(mail["internet_message_id"])
            )
    return out


def run_waves(
    console: Console,
    mailbox: DemoMailbox,
    snapshot: Callable[[], Snapshot],
    stop: threading.Event,
    timeout_s: float,
) -> bool:
    """Seed each wave and wait until the pipeline has dealt with it; False when the demo
    was stopped or a wave timed out."""
    first = _seed(console, mailbox, demo_mail.first_wave())
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
    second = _seed(console, mailbox, demo_mail.second_wave(acks_by_recipient(mailbox.sent())))
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


def _seed(
    console: Console, mailbox: DemoMailbox, wave: list[demo_mail.SampleMail]
) -> list[demo_mail.SampleMail]:
    for mail in wave:
        mailbox.seed(mail.raw)
        console.print(f"  seeded {mail.what}")
    return wave


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
