"""The calls ``mailpipe doctor`` and the console's "Test connection" make to check a Google
mailbox's setup (the mail port's :class:`~libs.common.mail.ports.GoogleSetupProbe`).

Every token is asked for afresh and for one scope at a time, so a missing domain-wide
delegation is named scope by scope. Nothing in the mailbox is read beyond its profile, its
labels and its sendAs aliases (and the mailbox's own entry in the Workspace directory);
nothing is changed or sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from google.oauth2 import service_account

from libs.common.errors import ConfigError
from libs.common.gmail._auth import DIRECTORY_READONLY, MODIFY, SETTINGS_BASIC, TokenSource
from libs.common.gmail._base import SYSTEM_LABELS, _client
from libs.common.gmail._directory import USERS
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

    def _get(
        self, path: str, scope: str, what: str, params: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        """``path`` under the Gmail API's ``users/me`` (or a full URL), as the mailbox."""
        token = self._source(self._box.address, scope).token()
        url = path if path.startswith("https://") else self._google.api_url + _ME + path
        try:
            answer = self._client.get(
                url, params=params, headers={"Authorization": f"Bearer {token}"}
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

    def directory_user(self, address: str) -> Mapping[str, Any]:
        """``address``'s public profile in the Workspace directory (the Directory API's
        ``users.get``, ``viewType=domain_public``), as the requester lookups read it."""
        url = self._google.directory_url + USERS + quote(address, safe="@")
        params = {"viewType": "domain_public"}
        return self._get(url, DIRECTORY_READONLY, "directory users.get", params)

    def close(self) -> None:
        self._client.close()
