"""The calls ``mailpipe doctor`` and the console's "Test connection" make to check a Google
mailbox's setup (the mail port's :class:`~libs.common.mail.ports.GoogleSetupProbe`).

Every token is asked for afresh and for one scope at a time, so a missing domain-wide
delegation is named scope by scope. Nothing in the mailbox is read beyond its profile, its
labels and its sendAs aliases; nothing is changed or sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from google.oauth2 import service_account

from libs.common.errors import ConfigError
from libs.common.gmail._auth import MODIFY, SETTINGS_BASIC, TokenSource
from libs.common.gmail._base import SYSTEM_LABELS, _client
from libs.common.gmail._errors import error_from_response, transport_error
from libs.common.settings import GoogleConfig, MailboxConfig

_ME = "/gmail/v1/users/me"


class GmailProbe:
    """One Google mailbox's setup calls; close it when done."""

    def __init__(self, google: GoogleConfig, box: MailboxConfig) -> None:
        self._google, self._box = google, box
        self._client = _client(google)
        self._info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"GmailProbe(mailbox={self._box.address!r})"

    def key_facts(self) -> tuple[str, str]:
        info = self._box.service_account_info()  # ConfigError: not a service account key
        try:
            service_account.Credentials.from_service_account_info(info)
        except (ValueError, TypeError, KeyError):
            # google-auth's words may quote the key's text: none of them leaves here.
            raise ConfigError(
                "the service account key's private key does not load",
                hint="create a new JSON key in Cloud console → IAM & Admin → Service accounts "
                "→ the account → Keys → Add key, and configure that file",
            ) from None
        self._info = info
        return str(info["client_email"]), str(info.get("client_id") or info["client_email"])

    def _source(self, user: str, scope: str) -> TokenSource:
        info = self._info if self._info is not None else self._box.service_account_info()
        return TokenSource(info, user, [scope], self._client, token_uri=self._google.token_uri)

    def token(self, user: str, scope: str) -> None:
        self._source(user, scope).token()

    def _get(self, path: str, scope: str, what: str) -> Mapping[str, Any]:
        token = self._source(self._box.address, scope).token()
        try:
            answer = self._client.get(
                self._google.api_url + _ME + path, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise transport_error(what, self._box.address, exc, arrived=False) from None
        if answer.status_code >= 400:
            raise error_from_response(
                answer.status_code, answer.content, what=what, user=self._box.address
            )
        data = answer.json()
        return data if isinstance(data, dict) else {}

    def profile(self) -> Mapping[str, Any]:
        return self._get("/profile", MODIFY, "users.getProfile")

    def find_label(self, name: str) -> str | None:
        system = SYSTEM_LABELS.get(name.lower())
        if system is not None:
            return system
        for label in self._get("/labels", MODIFY, "labels.list").get("labels", []):
            if str(label.get("name", "")).lower() == name.lower():
                return str(label["id"])
        return None

    def send_as_status(self, address: str) -> str | None:
        aliases = self._get("/settings/sendAs", SETTINGS_BASIC, "sendAs.list").get("sendAs", [])
        for alias in aliases:
            if str(alias.get("sendAsEmail", "")).lower() == address.lower():
                primary = alias.get("isPrimary")
                return "accepted" if primary else str(alias.get("verificationStatus") or "")
        return None

    def close(self) -> None:
        self._client.close()
