"""Helpers for the Graph client's integration tests against the simulator (``sim`` fixture)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from libs.common.graph import GraphMail, RetryEvent
from libs.graphsim.testing import SimHandle

BOX = "support@contoso.com"


def mail_for(
    sim: SimHandle, address: str = BOX, events: list[RetryEvent] | None = None, **overrides: Any
) -> GraphMail:
    config = sim.config(**overrides)
    return GraphMail(
        config.graph,
        config.mailbox(address),
        on_retry=events.append if events is not None else None,
    )


def rfc822(
    subject: str = "Printer on floor 3 is jammed",
    *,
    sender: str = "Ann Example <ann@fabrikam.com>",
    to: str = BOX,
    cc: str | None = None,
    body: str = "Hello,\nthe printer is jammed again.\n",
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> tuple[bytes, str]:
    """An RFC 822 message and its Message-ID."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    message_id = make_msgid(domain="fabrikam.com")
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(), message_id


def seed(sim: SimHandle, raw: bytes, address: str = BOX, folder: str | None = None) -> str:
    with sim.control() as control:
        response = control.post(
            f"/_sim/mailboxes/{address}/messages",
            content=raw,
            params={"folder": folder} if folder else None,
            headers={"Content-Type": "message/rfc822"},
        )
        response.raise_for_status()
        return str(response.json()["id"])


def seed_many(sim: SimHandle, count: int, address: str = BOX, prefix: str = "Ticket") -> list[str]:
    return [seed(sim, rfc822(f"{prefix} {i}")[0], address) for i in range(count)]


def control_json(sim: SimHandle, method: str, path: str, **kwargs: Any) -> Any:
    with sim.control() as control:
        response = control.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


def stats(sim: SimHandle) -> dict[str, Any]:
    return dict(control_json(sim, "GET", "/_sim/stats"))


def faults(sim: SimHandle, **knobs: Any) -> None:
    control_json(sim, "POST", "/_sim/faults", json=knobs)


def counts(sim: SimHandle, address: str = BOX) -> dict[str, Any]:
    return dict(control_json(sim, "GET", f"/_sim/mailboxes/{address}"))
