"""The console's /health page and /health.json on SQLite and PostgreSQL, with a real RabbitMQ
namespace: each integration's figures come from real rows (mailbox_health, records, the
quarantine) and the dead-letter queues; admins see the fix hints, agents do not; a broker
that cannot be reached is said on the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import insert

from libs.common.broker import Broker
from libs.common.db.integrations import Integrations
from libs.common.db.mailbox_health import MailboxHealth, MailboxHealthStore
from libs.common.db.schema import quarantine, records
from libs.common.integration_rules import IntegrationFields
from libs.common.secret_box import SecretBox, new_key
from libs.common.settings import Settings
from services.web.health_report import HealthSource
from tests.broker_helpers import namespaced_broker
from tests.integration.test_cli_dead import _put_foreign_job
from tests.web_rig import ADMIN_PASSWORD, AGENT_PASSWORD, Console, open_console, sign_in

TENANT = "6f1c7a5e-3d2b-4c8a-9e1f-0a2b3c4d5e6f"
CLIENT = "0d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"
SUPPORT = "support@contoso.com"
SALES = "sales@contoso.com"
HINT = "paste the client secret's Value, not its Secret ID"


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    for console in open_console(database_url):
        console.add_user("alice", "admin", ADMIN_PASSWORD)
        console.add_user("bob", "agent", AGENT_PASSWORD)
        yield console


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    with namespaced_broker(amqp_url, namespace) as made:
        yield made


def _integration(stored: Integrations, name: str, address: str, expires: date) -> None:
    fields = IntegrationFields(
        name=name,
        address=address,
        tenant_id=TENANT,
        client_id=CLIENT,
        secret=SecretStr("v~1"),
        secret_expires_on=expires,
        poll_interval_s=30.0,
    )
    stored.save(fields, SecretBox(new_key()))


def _rows(console: Console) -> None:
    """Support: 2 records today and 1 yesterday, 1 mail quarantined (and 1 replayed, 1
    dropped), a recent success. Sales: its secret refused twice in a row."""
    now = console.clock.now
    engine = console.store.engine
    stored = Integrations(engine)
    _integration(stored, "Support", SUPPORT, now.date() + timedelta(days=90))
    _integration(stored, "Sales", SALES, now.date() + timedelta(days=10))
    with engine.begin() as conn:
        for created in (now, now - timedelta(hours=1), now - timedelta(days=1)):
            conn.execute(insert(records).values(_record(SUPPORT, created)))
        for replayed in (None, now):
            conn.execute(insert(quarantine).values(_held(SUPPORT, now, replayed)))
        dropped = _held(SUPPORT, now, None) | {"message_id": "m-dropped", "dropped_at": now}
        conn.execute(insert(quarantine).values(dropped))
    MailboxHealthStore(engine).save(
        [
            MailboxHealth(SUPPORT, last_success_at=now - timedelta(seconds=12)),
            MailboxHealth(
                SALES,
                last_error_at=now,
                error_code="AADSTS7000215",
                error_kind="credential",
                error_hint=HINT,
                consecutive_errors=2,
            ),
        ]
    )


def _record(mailbox: str, created: object) -> dict[str, object]:
    return {"mailbox": mailbox, "subject": "s", "created_at": created, "updated_at": created}


def _held(mailbox: str, created: object, replayed: object) -> dict[str, object]:
    return {
        "mailbox": mailbox,
        "provider": "microsoft",
        "message_id": f"m-{replayed is None}",
        "folder": "inbox",
        "subject": "s",
        "reason": "too_large",
        "created_at": created,
        "replayed_at": replayed,
    }


def _source(console: Console, amqp_url: str, namespace: str) -> HealthSource:
    settings = Settings(amqp_url=SecretStr(amqp_url), namespace=namespace, config_source="database")
    return HealthSource.from_settings(settings, MailboxHealthStore(console.store.engine))


def test_the_page_shows_each_integrations_figures_from_real_rows_and_queues(
    console: Console, broker: Broker, amqp_url: str, namespace: str
) -> None:
    _rows(console)
    _put_foreign_job(broker)
    client = console.client(health_source=_source(console, amqp_url, namespace))
    sign_in(client, "alice", ADMIN_PASSWORD)
    page = client.get("/health")
    assert page.status_code == 200
    support, sales = _row_of(page.text, "Support"), _row_of(page.text, "Sales")
    assert 'alt="Warning"' in support, "one quarantined mail is a warning"
    assert "12 s ago" in support
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in support.split("<td")[4:9]]
    assert cells == ["0", "0", "2", "1", "secret: expires in 90 days"]
    assert 'alt="Failing"' in sales and "the credential is refused" in sales
    assert "AADSTS7000215" in sales and f"Fix: {HINT}" in sales.replace("&#39;", "'")
    assert "expires in 10 days" in sales and "expiry-warning" in sales
    assert "1 message(s) in the dead-letter queues" in page.text
    assert f"{broker.names.sender.name}: 1" in page.text
    assert '<a href="/health">Refresh</a>' in page.text
    assert '<script src="/static/health.js" defer></script>' in page.text


def test_agents_see_the_figures_without_the_hints_and_json_says_the_same(
    console: Console, broker: Broker, amqp_url: str, namespace: str
) -> None:
    _rows(console)
    source = _source(console, amqp_url, namespace)
    agent = console.client(health_source=source)
    sign_in(agent, "bob", AGENT_PASSWORD)
    page = agent.get("/health")
    assert page.status_code == 200 and "AADSTS7000215" in page.text
    assert "Fix:" not in page.text and "Secret ID" not in page.text
    answer = agent.get("/health.json").json()
    by_name = {one["name"]: one for one in answer["integrations"]}
    assert by_name["Support"]["records_today"] == 2
    assert by_name["Support"]["quarantined"] == 1
    assert by_name["Sales"]["status"] == "failing" and by_name["Sales"]["hint"] is None
    assert answer["dead_letters"]["total"] == 0 and answer["dead_letters"]["problem"] is None
    admin = console.client(health_source=source)
    sign_in(admin, "alice", ADMIN_PASSWORD)
    sales = next(
        o for o in admin.get("/health.json").json()["integrations"] if o["name"] == "Sales"
    )
    assert sales["hint"] == HINT and sales["consecutive_errors"] == 2


def test_an_unreachable_broker_is_said_on_the_page(console: Console, namespace: str) -> None:
    _rows(console)
    source = _source(console, "amqp://guest:guest@127.0.0.1:1//", namespace)
    client = console.client(health_source=source)
    sign_in(client, "alice", ADMIN_PASSWORD)
    page = client.get("/health")
    assert page.status_code == 200
    assert "the broker cannot be asked" in page.text
    assert "Support" in page.text and "guest:guest" not in page.text


def test_signed_out_visitors_go_to_sign_in(console: Console, namespace: str) -> None:
    client = console.client(health_source=_source(console, "amqp://127.0.0.1:1//", namespace))
    for path in ("/health", "/health.json"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def _row_of(html: str, name: str) -> str:
    start = html.index(f'<th scope="row">{name}')
    return html[start : html.index("</tr>", start)]
