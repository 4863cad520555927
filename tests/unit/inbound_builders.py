"""One InboundEmail for the ticketer's unit tests: a plain request to help@contoso.com, with
the fields a test names replaced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.common.contracts import Address, InboundEmail

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOX = "help@contoso.com"


def inbound_email(**fields: Any) -> InboundEmail:
    data: dict[str, Any] = {
        "mailbox": BOX,
        "message_id": "g1",
        "provider": "microsoft",
        "internet_message_id": "<m1@customer.example>",
        "received_at": NOW,
        "fetched_at": NOW,
        "from": Address(address="ann@customer.example"),
        "subject": "Printer",
    }
    data.update(fields)
    return InboundEmail.model_validate(data)
