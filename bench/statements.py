"""``python -m bench.statements``: the ticketer's write path alone, in process, against a
fresh database: SQL statements and CPU milliseconds per email for new mail (batches of 20
through ``Ticketer.handle_batch``, as the consumer hands them over) and for its redelivery.

No broker, no Graph, no blobs: what is left is the database part of the ticketer's work,
so that a change to it can be counted exactly (statements) and compared (CPU) without the
whole pipeline. One line of JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from bench.database import fresh_database, statements
from libs.common.blobs import BlobStore
from libs.common.broker.policy import Delivery
from libs.common.contracts import Address, Body, InboundEmail
from libs.common.settings import MailboxConfig, MailpipeConfig
from services.ticketer.handler import Ticketer
from services.ticketer.store import RecordStore

BOX = "help@contoso.com"
BATCH = 20
DELIVERY = Delivery(message_id="bench", correlation_id="bench")


class _Discard:
    """The outbox: the publishes are not what is measured here."""

    def publish(self, messages: Sequence[Any]) -> None:
        return None


def _mail(n: int, run: str) -> InboundEmail:
    now = datetime.now(UTC)
    return InboundEmail.model_validate(
        {
            "mailbox": BOX,
            "message_id": f"{run}-{n}",
            "provider": "microsoft",
            "internet_message_id": f"<{run}-{n}@customer.example>",
            "conversation_id": f"conv-{run}-{n}",
            "received_at": now,
            "fetched_at": now,
            "from": Address(address=f"user{n % 6}@customer.example", name=f"User {n % 6}"),
            "to": (Address(address=BOX),),
            "subject": f"Printer {n} is broken",
            "body": Body(text=f"Hello, printer {n} jams. " * 20),
        }
    )


def _handle(ticketer: Ticketer, emails: list[InboundEmail]) -> float:
    """CPU seconds of handling ``emails`` in batches; every email must go through."""
    started = time.process_time()
    for i in range(0, len(emails), BATCH):
        failed = ticketer.handle_batch([(e, DELIVERY) for e in emails[i : i + BATCH]])
        if any(failed):
            raise RuntimeError(f"a batch failed: {failed}")
    return time.process_time() - started


def measure(database: str, emails: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work, fresh_database(database, Path(work)) as url:
        store = RecordStore.open(url)
        config = MailpipeConfig(
            mailboxes=(MailboxConfig(address=BOX, tenant_id="t", client_id="c", client_secret="s"),)
        )
        ticketer = Ticketer(store, BlobStore(Path(work) / "blobs"), _Discard(), config)
        try:
            _handle(ticketer, [_mail(n, "warm") for n in range(2 * BATCH)])  # connections, caches
            mail = [_mail(n, "run") for n in range(emails)]
            with statements(store.engine) as seen:
                cpu_new = _handle(ticketer, mail)
            new = seen[0]
            with statements(store.engine) as seen:
                cpu_again = _handle(ticketer, mail)
            again = seen[0]
        finally:
            store.close()
    return {
        "database": database,
        "emails": emails,
        "statements_per_email": round(new / emails, 2),
        "cpu_ms_per_email": round(cpu_new * 1000 / emails, 3),
        "redelivered_statements_per_email": round(again / emails, 2),
        "redelivered_cpu_ms_per_email": round(cpu_again * 1000 / emails, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.statements", description=__doc__.split("\n")[0]
    )
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    p.add_argument("--emails", type=int, default=400, help="new emails (default 400)")
    a = p.parse_args(argv)
    # One log line per email would be most of what is measured.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(json.dumps(measure(a.database, max(a.emails, 1))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
