"""End-to-end harness: the Graph simulator, a config file, a namespace, a database and a blob
directory of their own, and the services as separate processes.

    from tests.e2e.harness import pipeline

    def test_something(tmp_path, amqp_url):
        with pipeline(tmp_path, amqp_url, auto_acknowledge=True, poll_interval_s=0.5) as stack:
            stack.seed_many([raw1, raw2])               # raw RFC 822 bytes into the inbox
            stack.start("fetcher"); stack.start("ticketer", name="ticketer-2")
            stack.wait_ready("fetcher")
            stack.wait_until(lambda: stack.folders()["inbox"] == 0, what="inbox emptied")
            stack.kill("ticketer-2"); stack.restart("ticketer-2")   # kill -9, then start again
            records = stack.records()                    # RecordStore.list_records()
            log = stack.processed_log()                  # {(mailbox, graph id): row}
            left = stack.removals("inbox")               # {mail id: epoch s it left the inbox}
            kept = stack.removed()                       # ids in Recoverable Items / the trash

``pipeline(tmp_path, amqp_url, *, mailboxes=…, database_url=None, sim=None, faults=None,
graph=None, push=None, provider="microsoft", **mailbox_overrides)``:

- ``provider`` picks the mail world (tests/e2e/worlds.py): ``"microsoft"`` the Graph
  simulator, ``"google"`` the Gmail simulator; ``stack.world`` says where the providers differ
  (``removed_folder``, ``copy_keeps_id``, ``directory``);
- the simulator runs in this process (``running_simulator``) unless a ``SimHandle`` is given
  (then the caller resets it; Microsoft only); ``faults`` are posted to ``/_sim/faults`` at
  start (``stack.faults(...)`` changes them later; both simulators take the same knobs);
- the mailpipe TOML is written to ``tmp_path/mailpipe.toml``: ``[graph]`` (or ``[google]``)
  pointing at the simulator (``graph`` adds keys such as ``max_retry_s`` to that table), one
  ``[[mailboxes]]`` per mailbox with working credentials (on Google the service account's key
  file, written beside it) plus ``mailbox_overrides`` (``auto_acknowledge``,
  ``after_processing``, ``copy_to_folder``, ``poll_interval_s``, ``keep_raw_mime``, …) and
  ``push`` as the ``[push]`` table (Microsoft only: the simulator then posts notifications to
  plain http);
- a fresh namespace (deleted with its queues at the end), ``database_url`` (default: a SQLite
  file under ``tmp_path``; pass the ``database_url`` fixture's value for PostgreSQL) and a
  blob directory;
- services start as ``python -m services.<service>`` with ``MAILPIPE_AMQP_URL``,
  ``_NAMESPACE``, ``_DATABASE_URL``, ``_BLOB_DIR``, ``_CONFIG``, ``_HEALTH_PORT`` (a free
  port per process) and ``_LOG_LEVEL``; stdout and stderr go to ``tmp_path/logs/<name>.log``
  (appended across restarts; ``stack.log(name)`` reads it). Several processes of one service
  run side by side under different names. At the end every process still running gets
  SIGTERM, and SIGKILL if it has not stopped within 30 s.

Waiting is bounded (``wait_until`` raises ``AssertionError`` naming what it waited for, with
the tail of each service's log); the deadline only keeps a broken test from hanging, the
tests assert outcomes, never timings.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.broker import Broker, Names
from libs.gmailsim.testing import running_simulator as running_gmailsim
from libs.graphsim.testing import SimHandle, running_simulator
from tests.e2e.processes import REPO, ProcessControl, ServiceProcess, free_port
from tests.e2e.worlds import PROVIDERS, GmailWorld, GraphWorld, MailWorld, toml_value

__all__ = ["REPO", "Stack", "config_toml", "free_port", "pipeline"]

DEFAULT_MAILBOXES = ("support@contoso.com", "helpdesk@contoso.com")


def config_toml(
    sim: SimHandle,
    mailboxes: Iterable[str],
    graph: Mapping[str, Any],
    overrides: Mapping[str, Any],
    push: Mapping[str, Any] | None = None,
) -> str:
    """The mailpipe TOML: ``[graph]`` at the simulator, every mailbox with working credentials,
    and ``[push]`` when given."""
    return GraphWorld(sim).config_toml(mailboxes, graph, overrides, REPO) + push_toml(push)


def push_toml(push: Mapping[str, Any] | None) -> str:
    """The ``[push]`` table (nothing without one)."""
    if not push:
        return ""
    return "\n".join(["", "[push]", *(f"{k} = {toml_value(v)}" for k, v in push.items()), ""])


@dataclass
class Stack(ProcessControl):
    world: MailWorld
    amqp_url: str
    namespace: str
    database_url: str
    blob_dir: Path
    config_path: Path
    log_dir: Path
    mailboxes: tuple[str, ...]
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def sim(self) -> SimHandle:
        """The Graph simulator (for Microsoft-only checks; a Gmail stack has none)."""
        if not isinstance(self.world, GraphWorld):
            raise AssertionError(f"a {self.world.provider} stack has no Graph simulator")
        return self.world.sim

    # -- processes (the rest in tests/e2e/processes.py) ----------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
        env.update(
            MAILPIPE_AMQP_URL=self.amqp_url,
            MAILPIPE_NAMESPACE=self.namespace,
            MAILPIPE_DATABASE_URL=self.database_url,
            MAILPIPE_BLOB_DIR=str(self.blob_dir),
            MAILPIPE_CONFIG=str(self.config_path),
            MAILPIPE_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    # -- the mailbox (simulator) ---------------------------------------------------------

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.world.control() as control:
            answer = control.request(method, path, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def seed(self, raw: bytes, mailbox: str | None = None, *, folder: str | None = None) -> str:
        """Put a raw RFC 822 mail into a mailbox (default: the first); its immutable id."""
        params = {self.world.seed_param: folder} if folder else {}
        path = f"/_sim/mailboxes/{mailbox or self.mailboxes[0]}/messages"
        return str(self._control("POST", path, content=raw, params=params)["id"])

    def seed_many(self, raws: Iterable[bytes], mailbox: str | None = None) -> list[str]:
        return [self.seed(raw, mailbox) for raw in raws]

    def folders(self, mailbox: str | None = None) -> dict[str, int]:
        """Message count per folder (``inbox``, the world's ``removed_folder``, names …)."""
        return self.world.folders(mailbox or self.mailboxes[0])

    def folder_messages(self, folder: str, mailbox: str | None = None) -> list[dict[str, Any]]:
        """The messages (``id`` …) in one folder, or with one label on Gmail."""
        return self.world.folder_messages(folder, mailbox or self.mailboxes[0])

    def removed(self, mailbox: str | None = None) -> set[str]:
        """Ids of the messages where removed mail is kept (Recoverable Items, the trash)."""
        return {m["id"] for m in self.folder_messages(self.world.removed_folder, mailbox)}

    def sent(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        """What the mailbox sent (from, to, subject, internet_message_id, headers, MIME)."""
        return self.world.sent(mailbox or self.mailboxes[0])

    def faults(self, **knobs: Any) -> dict[str, Any]:
        """Set simulator faults (``throttle_ratio``, ``error_ratio``, ``token_ttl_s``, …)."""
        return dict(self._control("POST", "/_sim/faults", json=knobs))

    def stats(self) -> dict[str, Any]:
        return dict(self._control("GET", "/_sim/stats"))

    def events(self, mailbox: str | None = None) -> list[dict[str, Any]]:
        """The mailbox's timeline (``at`` epoch s, ``kind``, ``folder``, ``id``), oldest first."""
        path = f"/_sim/mailboxes/{mailbox or self.mailboxes[0]}/events"
        return list(self._control("GET", path))

    def removals(self, folder: str = "inbox", mailbox: str | None = None) -> dict[str, float]:
        """When each message first left ``folder`` (deleted or moved), by immutable id."""
        out: dict[str, float] = {}
        for event in self.events(mailbox):
            if event["kind"] == "removed" and event["folder"] == folder:
                out.setdefault(event["id"], float(event["at"]))
        return out

    # -- broker and database ---------------------------------------------------------------

    def broker(self) -> Broker:
        """A broker on the stack's namespace (close it when done)."""
        return Broker(self.amqp_url, Names(self.namespace), heartbeat_s=10)

    def records(self, **filters: Any) -> list[Any]:
        """Every record (``RecordStore.list_records(**filters)``)."""
        from services.ticketer.store import RecordStore

        store = RecordStore.open(self.database_url)
        try:
            return list(store.list_records(**filters))
        finally:
            store.close()

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one table of the shared database, as dicts (for assertions); none
        before a service has created the schema."""
        from sqlalchemy import create_engine, inspect, select

        from libs.common.db import schema
        from libs.common.db.engine import parse_url

        engine = create_engine(parse_url(self.database_url))
        try:
            with engine.connect() as conn:
                if not inspect(conn).has_table(table):
                    return []
                rows = conn.execute(select(schema.metadata.tables[table]))
                return [dict(row._mapping) for row in rows]
        finally:
            engine.dispose()

    def count(self, table: str) -> int:
        """Rows in one table of the shared database (0 before the schema exists)."""
        from sqlalchemy import create_engine, func, inspect, select

        from libs.common.db import schema
        from libs.common.db.engine import parse_url

        engine = create_engine(parse_url(self.database_url))
        try:
            with engine.connect() as conn:
                if not inspect(conn).has_table(table):
                    return 0
                query = select(func.count()).select_from(schema.metadata.tables[table])
                return int(conn.execute(query).scalar_one())
        finally:
            engine.dispose()

    def processed_log(self) -> dict[tuple[str, str], dict[str, Any]]:
        """``processed_log`` by (mailbox, graph id): one outcome per handled email."""
        return {(r["mailbox"], r["message_id"]): r for r in self.rows("processed_log")}

    def record(self, record_id: int) -> Any:
        """One record with its messages (``RecordStore.get_record``)."""
        from services.ticketer.store import RecordStore

        store = RecordStore.open(self.database_url)
        try:
            return store.get_record(record_id)
        finally:
            store.close()


@contextmanager
def pipeline(
    tmp_path: Path,
    amqp_url: str,
    *,
    mailboxes: Iterable[str] = DEFAULT_MAILBOXES,
    database_url: str | None = None,
    sim: SimHandle | None = None,
    faults: Mapping[str, Any] | None = None,
    graph: Mapping[str, Any] | None = None,
    push: Mapping[str, Any] | None = None,
    provider: str = "microsoft",
    **mailbox_overrides: Any,
) -> Iterator[Stack]:
    """A stack for one test; see the module docstring."""
    boxes = tuple(m.lower() for m in mailboxes)
    with ExitStack() as cleanup:
        world = _world(cleanup, provider, sim, tmp_path, boxes, push is not None)
        config_path = tmp_path / "mailpipe.toml"
        if push and provider != "microsoft":
            raise AssertionError("push is Microsoft's: Gmail mailboxes are polled")
        text = world.config_toml(boxes, graph or {}, mailbox_overrides, tmp_path)
        config_path.write_text(text + push_toml(push))
        config_path.chmod(0o600)
        log_dir = tmp_path / "logs"
        log_dir.mkdir(exist_ok=True)
        stack = Stack(
            world=world,
            amqp_url=amqp_url,
            namespace=f"e2e-{uuid.uuid4().hex[:10]}",
            database_url=database_url or f"sqlite:///{tmp_path / 'mailpipe.db'}",
            blob_dir=tmp_path / "blobs",
            config_path=config_path,
            log_dir=log_dir,
            mailboxes=boxes,
        )
        if faults:
            stack.faults(**faults)
        try:
            yield stack
        finally:
            stack.stop_all()
            if faults:
                stack.faults(throttle_ratio=0.0, error_ratio=0.0, latency_ms=0)
            _delete_namespace(stack)


def _world(
    cleanup: ExitStack,
    provider: str,
    sim: SimHandle | None,
    tmp_path: Path,
    boxes: tuple[str, ...],
    push: bool = False,
) -> MailWorld:
    """The provider's simulator: a running Graph one if given, else a new one for the test."""
    if provider == "google":
        if sim is not None:
            raise AssertionError("a Graph simulator was given for a google stack")
        gsim = running_gmailsim(tmp_path / "gmailsim", list(boxes))
        return GmailWorld(cleanup.enter_context(gsim))
    if provider != "microsoft":
        raise AssertionError(f"unknown provider {provider!r}: one of {PROVIDERS}")
    if sim is None:
        sim = cleanup.enter_context(
            running_simulator(tmp_path / "graphsim", list(boxes), allow_http_notifications=push)
        )
    return GraphWorld(sim)


def _delete_namespace(stack: Stack) -> None:
    broker = stack.broker()
    try:
        broker.delete()
    finally:
        broker.close()
