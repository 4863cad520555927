"""The fetcher's pieces in-process against the simulator, a real RabbitMQ namespace and a test
database: seed mail, poll, read what reached the ticketer queue, answer with ProcessedEmail,
run the processed consumer on a thread, read the mailbox back."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from libs.common.blobs import BlobStore
from libs.common.broker import Broker, routing_key
from libs.common.contracts import InboundEmail, ProcessedEmail
from libs.common.contracts.processed import Outcome
from libs.common.settings import MailpipeConfig
from libs.graphsim.testing import SimHandle
from services.fetcher.service import Fetcher
from services.fetcher.state import MailCursors
from tests.broker_helpers import Got, drain, namespaced_broker, wait_until

SUPPORT = "support@contoso.com"
HELPDESK = "helpdesk@contoso.com"


def mail(
    n: int,
    *,
    subject: str | None = None,
    sender: str = "jane@customer.example",
    to: str = SUPPORT,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    inline: Sequence[tuple[str, bytes]] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    """A raw RFC 822 mail; ``inline`` images (cid, bytes) are related parts of the HTML."""
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject if subject is not None else f"Request {n}"
    msg["Message-ID"] = make_msgid(f"m{n}", domain="customer.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(f"Body of request {n}.\n")
    if html is not None or inline:
        msg.add_alternative(html or f"<p>Body {n}</p>", subtype="html")
        html_part = list(msg.iter_parts())[-1]
        for cid, data in inline:
            html_part.add_related(data, "image", "png", cid=f"<{cid}>")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


@dataclass
class Rig:
    sim: SimHandle
    broker: Broker
    state: MailCursors
    blobs: BlobStore
    made: list[Fetcher] = field(default_factory=list)

    def close(self) -> None:
        """Close the Graph clients of every fetcher made (open keep-alive connections would
        hold the simulator's shutdown)."""
        for fetcher in self.made:
            fetcher.close()

    def config(self, **overrides: Any) -> MailpipeConfig:
        return self.sim.config(**overrides)

    def fetcher(self, config: MailpipeConfig | None = None, **overrides: Any) -> Fetcher:
        fetcher = Fetcher(config or self.config(**overrides), self.broker, self.state, self.blobs)
        self.made.append(fetcher)
        return fetcher

    def seed(self, raw: bytes, mailbox: str = SUPPORT, **params: str) -> str:
        with self.sim.control() as control:
            answer = control.post(f"/_sim/mailboxes/{mailbox}/messages", content=raw, params=params)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def folders(self, mailbox: str = SUPPORT) -> dict[str, int]:
        with self.sim.control() as control:
            return dict(control.get(f"/_sim/mailboxes/{mailbox}").json()["folders"])

    def sim_messages(self, folder: str, mailbox: str = SUPPORT) -> list[dict[str, Any]]:
        with self.sim.control() as control:
            answer = control.get(f"/_sim/mailboxes/{mailbox}/folders/{folder}/messages")
        answer.raise_for_status()
        return list(answer.json())

    def stats(self) -> dict[str, Any]:
        with self.sim.control() as control:
            return dict(control.get("/_sim/stats").json())

    def control_post(self, path: str) -> None:
        with self.sim.control() as control:
            control.post(path).raise_for_status()

    def inbound_messages(self) -> list[Got]:
        return drain(self.broker, self.broker.names.ticketer.name)

    def inbound(self) -> list[InboundEmail]:
        return [InboundEmail.from_json(got.body) for got in self.inbound_messages()]

    def processed(
        self, email: InboundEmail | str, *, outcome: Outcome = "created", mailbox: str = SUPPORT
    ) -> None:
        """Answer like the ticketer would (record 1, or a reason for ignored/quarantined)."""
        message_id = email if isinstance(email, str) else email.message_id
        box = mailbox if isinstance(email, str) else email.mailbox
        record = 1 if outcome in ("created", "appended") else None
        reason = None if record else "test reason"
        message = ProcessedEmail(
            mailbox=box,
            provider="microsoft",
            message_id=message_id,
            outcome=outcome,
            record_id=record,
            reason=reason,
            processed_at=datetime.now(UTC),
        )
        self.broker.publish(
            self.broker.names.processed,
            routing_key("processed", box),
            message,
            correlation_id=message_id,
        )

    def dead_letters(self) -> list[Got]:
        return drain(self.broker, self.broker.names.fetcher_processed.dead)

    @contextmanager
    def consuming_processed(self, fetcher: Fetcher) -> Iterator[threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=fetcher.consume_processed, args=(stop,), daemon=True)
        thread.start()
        try:
            yield stop
        finally:
            stop.set()
            thread.join(timeout=60)
        assert not thread.is_alive(), "the processed consumer did not stop"


@contextmanager
def open_rig(
    sim: SimHandle, amqp_url: str, namespace: str, database_url: str, blob_dir: Path
) -> Iterator[Rig]:
    """A rig on the simulator, RabbitMQ in the test's namespace, and delta state in
    ``database_url``; everything closed afterwards."""
    state = MailCursors.open(database_url)
    try:
        with namespaced_broker(amqp_url, namespace, heartbeat_s=5) as broker:
            made = Rig(sim, broker, state, BlobStore(blob_dir))
            try:
                yield made
            finally:
                made.close()
    finally:
        state.close()


def until(predicate: Any, timeout_s: float = 60.0) -> None:
    assert wait_until(predicate, timeout_s), "condition not reached"
