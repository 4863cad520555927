"""Wiring of the web console: its repository, the pages, and the server (docs/console.md).

:func:`build_app` makes the Starlette application from an :class:`~services.web.auth.Accounts`
(tests drive it with Starlette's TestClient and their own clock); :class:`WebServer` serves it
with uvicorn, in the foreground (``mailpipe web``) or on a thread (``mailpipe run``).
``/healthz`` answers while the process runs, ``/readyz`` while the database answers.
"""

from __future__ import annotations

import threading
import time
from importlib.resources import files

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from libs.common.blobs import BlobStorage
from libs.common.broker import install_signal_handlers
from libs.common.db import utcnow
from libs.common.db.record_changes import RecordChanges
from libs.common.db.record_versions import RecordVersions
from libs.common.db.record_views import RecordViews
from libs.common.db.replies import Replies
from libs.common.errors import MailpipeError
from libs.common.health import Check, HealthServer, run_checks
from libs.common.service import database_check
from services.web.auth import Accounts
from services.web.changes import RETRY_S, Announce, ChangeDesk, broker_announcer
from services.web.config import WebSettings
from services.web.dead_letters import DeadLetterDesk, broker_letters
from services.web.domain.body_limits import BodyLimits
from services.web.health_report import HealthSource
from services.web.image_cache import ImageCache
from services.web.mailboxes import Mailboxes
from services.web.pages import (
    audit,
    connection,
    dead_letters,
    health,
    home,
    integration_edit,
    integrations,
    quarantine,
    record_events,
    records,
    replies,
    signin,
    users,
)
from services.web.pages.record_events import LiveStreams
from services.web.quarantine import QuarantineDesk, open_desk
from services.web.replies import Publish, ReplyDesk, broker_publisher
from services.web.security import SecurityHeaders
from services.web.store import ConsoleStore

log = structlog.get_logger(__name__)

#: How long a stop waits for the requests in hand.
STOP_TIMEOUT_S = 10.0


class ConsoleApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, so that a 500 has the headers too.
        return SecurityHeaders(super().build_middleware_stack())


#: Every page's routes, in the order they are matched.
PAGES: list[BaseRoute] = [
    *signin.routes,
    *home.routes,
    *users.routes,
    *audit.routes,
    *integrations.routes,
    *integration_edit.routes,
    *connection.routes,
    *quarantine.routes,
    *dead_letters.routes,
    *health.routes,
    *records.routes,
    *record_events.routes,
    *replies.routes,
]


def _probes(accounts: Accounts) -> dict[str, Check]:
    return {"database": database_check(accounts.store.ping)}


def _service_routes(accounts: Accounts) -> list[BaseRoute]:
    """``/healthz``, ``/readyz`` (the database answers) and the static files."""
    checks = _probes(accounts)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ok, results = run_checks(checks)
        return JSONResponse({"ready": ok, "checks": results}, status_code=200 if ok else 503)

    static = StaticFiles(directory=str(files("services.web") / "static"))
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Mount("/static", app=static, name="static"),
    ]


def build_app(
    accounts: Accounts,
    *,
    insecure_cookies: bool = False,
    quarantine_desk: QuarantineDesk | None = None,
    dead_letter_desk: DeadLetterDesk | None = None,
    health_source: HealthSource | None = None,
    mailboxes: Mailboxes | None = None,
    blobs: BlobStorage | None = None,
    publish: Publish | None = None,
    body_limits: BodyLimits | None = None,
    announce: Announce | None = None,
) -> Starlette:
    """``health_source``: where /health reads (made from the environment when ``None``);
    ``mailboxes``: the integrations it shows (none given: an empty, read-only list);
    ``blobs``: where record attachments are read and large reply files put (none: downloads
    answer 503); ``publish``: how a reply's job reaches the sender (none: the broker of the
    settings); ``body_limits``: the largest request bodies (none: the defaults); ``announce``:
    how the record event of an agent's change is published (none: the broker of the
    settings)."""
    app = ConsoleApp(routes=[*_service_routes(accounts), *PAGES])
    app.state.accounts = accounts
    app.state.insecure_cookies = insecure_cookies
    app.state.quarantine = quarantine_desk
    app.state.dead_letters = dead_letter_desk
    app.state.health = health_source
    app.state.mailboxes = mailboxes or Mailboxes("file")
    app.state.records = RecordViews(accounts.store.engine)
    app.state.versions = RecordVersions(accounts.store.engine)
    app.state.changes = ChangeDesk(
        RecordChanges(accounts.store.engine), announce or broker_announcer()
    )
    app.state.live = LiveStreams()
    app.state.blobs = blobs
    app.state.image_cache = ImageCache()
    app.state.body_limits = body_limits or BodyLimits()
    app.state.reply_desk = ReplyDesk(
        Replies(accounts.store.engine), publish or broker_publisher(), blobs, utcnow
    )
    return app


def open_accounts(database_url: str, settings: WebSettings) -> Accounts:
    """The repository on ``database_url``, its schema brought up to date (as every service
    does at start), and the sign-in rules on it."""
    store = ConsoleStore.open(database_url)
    return Accounts(store, utcnow, settings.session_policy())


class CannotListen(MailpipeError):
    """The console's address is taken or not allowed."""

    code = "cannot_listen"


def _uvicorn_config(app: Starlette, host: str, port: int, settings: WebSettings) -> uvicorn.Config:
    # log_config=None: uvicorn logs through the JSON logging every service configures.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


class WebServer:
    """uvicorn serving the console on a thread: :meth:`run` until SIGTERM/SIGINT
    (``mailpipe web``), or :meth:`start` and :meth:`stop` beside the pipeline
    (``mailpipe run``). ``amqp_url`` is the broker of the dead-letter page when it is not
    ``MAILPIPE_AMQP_URL`` (``mailpipe run --broker-url``); ``blobs`` is where record
    attachments are read (``open_blobs``, as the other services); ``metrics_port``, where
    ``/metrics`` and the probes are served (``MAILPIPE_HEALTH_PORT`` of ``mailpipe web``;
    never the console's own port, which agents reach)."""

    def __init__(
        self,
        accounts: Accounts,
        settings: WebSettings,
        host: str,
        port: int,
        amqp_url: str | None = None,
        health_source: HealthSource | None = None,
        mailboxes: Mailboxes | None = None,
        blobs: BlobStorage | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.mailboxes = mailboxes or Mailboxes("file")
        app = build_app(
            accounts,
            insecure_cookies=settings.insecure_cookies,
            quarantine_desk=open_desk(accounts.store),
            dead_letter_desk=DeadLetterDesk(broker_letters(amqp_url)),
            health_source=health_source,
            mailboxes=self.mailboxes,
            blobs=blobs,
            publish=broker_publisher(amqp_url),
            announce=broker_announcer(amqp_url),
            body_limits=settings.body_limits(),
        )
        self.accounts = accounts
        self.live: LiveStreams = app.state.live
        self.changes: ChangeDesk = app.state.changes
        self.server = uvicorn.Server(_uvicorn_config(app, host, port, settings))
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)
        self.where = f"http://{host}:{port}/"
        self.metrics_port = metrics_port
        self.metrics: HealthServer | None = None

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT, then stop and return 0."""
        stop = threading.Event()
        install_signal_handlers(stop)
        self.start()
        while not stop.wait(0.5) and self.thread.is_alive():
            pass
        self.stop()
        return 0

    def start(self) -> WebServer:
        """Start serving; :class:`CannotListen` when the address cannot be had."""
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            time.sleep(0.05)
        if not self.server.started:
            self.accounts.store.close()
            self.mailboxes.close()
            raise CannotListen(
                f"the web console cannot listen on {self.where}",
                hint="pick another --port (MAILPIPE_WEB_PORT), or stop what uses it",
            )
        log.info("web console listening", url=self.where)
        self._serve_metrics()
        self.retrying = threading.Thread(target=self._retry, name="web-events", daemon=True)
        self.retrying.start()
        return self

    def _serve_metrics(self) -> None:
        """``/metrics`` and the probes on ``metrics_port``, when there is one."""
        if self.metrics_port is None:
            return
        try:
            self.metrics = HealthServer(self.metrics_port, _probes(self.accounts)).start()
        except OSError:
            self.stop()
            raise CannotListen(
                f"the web console's metrics cannot listen on port {self.metrics_port}",
                hint="pick another MAILPIPE_HEALTH_PORT, or stop what uses it",
            ) from None

    def _retry(self) -> None:
        """Publish the record events whose publish failed, every RETRY_S, until the stop."""
        while not self.live.closing.wait(RETRY_S):
            try:
                self.changes.publish_pending()
            except Exception as exc:  # the database away too: the next round tries again
                log.warning("record events not retried", error=type(exc).__name__)

    def stop(self) -> None:
        self.live.closing.set()
        self.server.should_exit = True
        self.thread.join(timeout=STOP_TIMEOUT_S)
        retrying = getattr(self, "retrying", None)
        if retrying is not None:
            retrying.join(timeout=STOP_TIMEOUT_S)
        if self.metrics is not None:
            self.metrics.stop()
        self.accounts.store.close()
        self.mailboxes.close()
        log.info("web console stopped")
