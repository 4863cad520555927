"""Shared by the console's integration tests: a console on the database with the integrations
of the Graph simulator, the form of an integration that reaches the simulator, and reading the
steps of Test connection off a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from libs.common.db.integrations import Integrations
from libs.common.secret_box import SecretBox, new_key
from libs.graphsim.testing import SimHandle
from services.web.mailboxes import Mailboxes
from tests.web_rig import (
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    Console,
    open_console,
    post_form,
    sign_in,
)

BOX = "support@contoso.com"
OUTSIDE = "helpdesk@contoso.com"


def integration_console(database_url: str, sim: SimHandle) -> Iterator[Console]:
    """A console whose integrations are in the database, Graph the simulator."""
    store = Integrations.open(database_url)
    graph = sim.config().graph
    mailboxes = Mailboxes("database", graph, store=store, box=SecretBox(new_key()))
    try:
        for console in open_console(database_url):
            console.mailboxes = mailboxes
            console.add_user("alice", "admin", ADMIN_PASSWORD)
            console.add_user("bob", "agent", AGENT_PASSWORD)
            yield console
    finally:
        store.close()


def form_of(sim: SimHandle, **changes: Any) -> dict[str, Any]:
    values = {
        "name": "Support",
        "enabled": "on",
        "direction": "both",
        "protocol": "oauth2",
        "provider": "microsoft",
        "client_id": sim.client_id,
        "credential_kind": "secret",
        "client_secret": sim.client_secret,
        "tenant_id": sim.tenant_id,
        "secret_expires_on": "2027-06-01",
        "address": BOX,
        "folder": "inbox",
        "poll_interval_s": "30",
        "after_processing": "delete",
        "copy_to_folder": "",
        "quarantine_folder": "inbox",
        "auto_ack_per_hour": "3",
        "ignore_senders": "@spam.example",
        "send_as": "",
        "is_default": "on",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def admin(console: Console) -> Any:
    client = console.client()
    sign_in(client, "alice", ADMIN_PASSWORD)
    return client


def create(client: Any, sim: SimHandle, **changes: Any) -> int:
    answer = post_form(
        client, "/admin/integrations", form_of(sim, **changes), "/admin/integrations/new"
    )
    assert answer.status_code == 303, answer.text
    found = re.match(r"/admin/integrations/(\d+)\?saved=1", answer.headers["location"])
    assert found is not None
    return int(found.group(1))


def steps_of(html: str) -> dict[str, str]:
    """Each step of the result on the page: its name and its mark."""
    found = re.findall(
        r'<li class="step-(ok|failed|unknown)">.*?<strong>(.*?)</strong>', html, re.S
    )
    return {name: mark for mark, name in found}


def sent_of(sim: SimHandle) -> list[dict[str, Any]]:
    with sim.control() as control:
        answer = control.get(f"/_sim/mailboxes/{BOX}/sent")
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()
    return found
