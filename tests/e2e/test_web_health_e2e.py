"""The health page of ``mailpipe run``: mail posted to the simulator is fetched, becomes
records, and /health counts it under "records today" with a recent successful poll, without
any restart (the fetcher and the console share the database). On both providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from services.web.admin import create_account
from services.web.app import open_accounts
from services.web.config import WebSettings
from services.web.security import LOGIN_CSRF_COOKIE
from tests.e2e.test_embedded import mailpipe_run, running_sim
from tests.integration.fetcher_rig import SUPPORT, mail

PASSWORD = "alice password 1"


def _sign_in(client: httpx.Client) -> None:
    token = client.get("/login").cookies[LOGIN_CSRF_COOKIE]
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/"}
    assert client.post("/login", data=form).status_code == 303


def _support(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/health.json")
    assert answer.status_code == 200
    (found,) = [one for one in answer.json()["integrations"] if one["address"] == SUPPORT]
    return dict(found)


def test_records_today_counts_new_mail_on_the_health_page(tmp_path: Path, provider: str) -> None:
    database_url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    accounts = open_accounts(database_url, WebSettings())
    create_account(accounts, "alice", "Alice", "admin", PASSWORD)
    accounts.store.close()
    with (
        running_sim(provider, tmp_path) as sim,
        mailpipe_run(tmp_path, sim, database_url, MAILPIPE_WEB_INSECURE_COOKIES="1") as run,
    ):
        run.wait_for(run.ready, "ready")
        with httpx.Client(base_url=f"http://127.0.0.1:{run.web_port}") as client:
            _sign_in(client)
            run.wait_for(lambda: _support(client)["last_success_at"] is not None, "a poll")
            assert _support(client)["records_today"] == 0
            for n in range(2):
                run.control.post(f"/_sim/mailboxes/{SUPPORT}/messages", content=mail(n))
            run.wait_for(lambda: _support(client)["records_today"] == 2, "two records today")
            support = _support(client)
            page = client.get("/health")
        assert run.terminate() == 0
    assert support["status"] == "ok" and support["consecutive_errors"] == 0
    assert page.status_code == 200 and 'alt="OK"' in page.text
    assert "s ago" in page.text
    assert "keeps its dead letters inside the process" in page.text, "its own broker asked"
