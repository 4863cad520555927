"""Helpers for the Gmail simulator's tests: tokens through google-auth itself, seeding, mail."""

from __future__ import annotations

from typing import Any

import requests
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from libs.gmailsim.testing import GmailSimHandle

SCOPE = "https://www.googleapis.com/auth/"
MODIFY = SCOPE + "gmail.modify"
SEND = SCOPE + "gmail.send"
SHARING = SCOPE + "gmail.settings.sharing"
FULL = "https://mail.google.com/"


def google_request(sim: GmailSimHandle) -> Request:
    """google-auth's requests transport trusting the simulator's CA. ``trust_env`` is off:
    requests would otherwise prefer REQUESTS_CA_BUNDLE over the session's ``verify``."""
    session = requests.Session()
    session.verify = str(sim.ca_bundle)
    session.trust_env = False
    return Request(session)


def credentials(info: dict[str, Any], user: str, scopes: list[str]) -> service_account.Credentials:
    creds = service_account.Credentials.from_service_account_info(info, scopes=scopes)
    return creds.with_subject(user)


def token(
    sim: GmailSimHandle,
    user: str,
    scopes: list[str] | None = None,
    info: dict[str, Any] | None = None,
) -> str:
    """An access token the way mailpipe's adapter will get it: google-auth, unchanged."""
    creds = credentials(info or sim.key_info, user, scopes or [MODIFY, SEND])
    creds.refresh(google_request(sim))
    assert isinstance(creds.token, str)
    return creds.token


def mail(
    subject: str,
    *,
    to: str = "support@example.com",
    frm: str = "customer@outside.test",
    msgid: str | None = None,
    extra: str = "",
    body: str = "Hello.",
) -> bytes:
    lines = [f"From: {frm}", f"To: {to}", f"Subject: {subject}"]
    if msgid:
        lines.append(f"Message-ID: {msgid}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def seed(sim: GmailSimHandle, address: str, raw: bytes, labels: str | None = None) -> dict:
    params = {"labels": labels} if labels is not None else {}
    with sim.control() as control:
        resp = control.post(f"/_sim/mailboxes/{address}/messages", content=raw, params=params)
    resp.raise_for_status()
    return dict(resp.json())


def counts(sim: GmailSimHandle, address: str) -> dict[str, Any]:
    with sim.control() as control:
        return dict(control.get(f"/_sim/mailboxes/{address}").raise_for_status().json())
