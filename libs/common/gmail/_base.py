"""What every part of :class:`GmailMail` stands on: the HTTP client, the mailbox's requests
(as its user), labels for folder names, batches."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Self

import httpx

from libs.common.gmail._auth import MODIFY, SEND, SETTINGS_BASIC, TokenSource
from libs.common.gmail._batch import Answer, Call, run_batch
from libs.common.gmail._http import GmailHttp, Tokens
from libs.common.gmail._quota import quota_for
from libs.common.gmail._rawcache import RawCache
from libs.common.mail.errors import MailError, MailNotFound
from libs.common.mail.retry import RetryPolicy
from libs.common.settings import GoogleConfig, MailboxConfig

ME = "/gmail/v1/users/me"
#: The port's well-known folder names → Gmail's system labels.
SYSTEM_LABELS = {
    "inbox": "INBOX",
    "sentitems": "SENT",
    "drafts": "DRAFT",
    "deleteditems": "TRASH",
    "junkemail": "SPAM",
}


def _client(google: GoogleConfig) -> httpx.Client:
    verify: ssl.SSLContext | bool = True
    if google.ca_bundle is not None:
        verify = ssl.create_default_context(cafile=str(google.ca_bundle))
    # trust_env off: REQUESTS_CA_BUNDLE and proxies in the environment must not win over the
    # configured CA bundle.
    return httpx.Client(verify=verify, timeout=google.timeout_s, trust_env=False)


class GmailBase:
    """One mailbox's client and plumbing; the operations are in the classes GmailMail joins."""

    def __init__(
        self,
        google: GoogleConfig,
        mailbox: MailboxConfig,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        tokens: Tokens | None = None,
    ) -> None:
        self.address = mailbox.address
        self._google, self._box, self._sleep = google, mailbox, sleep
        self._policy = policy or RetryPolicy(budget_s=google.max_retry_s)
        self._client = _client(google)
        self._info = mailbox.service_account_info()
        scopes = [MODIFY, SEND] + ([SETTINGS_BASIC] if mailbox.google_send_as == "alias" else [])
        self._http = self._http_for(mailbox.address, scopes, tokens)
        self._labels: dict[str, str] = {}
        self._recent = RawCache()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GmailMail(mailbox={self.address!r}, api_url={self._google.api_url!r})"

    def _http_for(
        self,
        user: str,
        scopes: Sequence[str],
        tokens: Tokens | None = None,
        *,
        api_url: str | None = None,
    ) -> GmailHttp:
        """Requests as ``user`` with a token for ``scopes``, to ``api_url`` (the Gmail API's
        root unless given), through that user's quota of that API."""
        root = api_url or self._google.api_url
        source = tokens or TokenSource(
            self._info, user, scopes, self._client, token_uri=self._google.token_uri
        )
        quota = quota_for(root, user, self._google.units_per_s, self._google.max_concurrency)
        return GmailHttp(
            root,
            user,
            source,
            quota,
            client=self._client,
            policy=self._policy,
            sleep=self._sleep,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        return self._http.retry_budget(budget_s)

    @property
    def requests_sent(self) -> int:
        """HTTP requests this object sent (retries included), for the benchmark."""
        return self._http.requests_sent

    @property
    def units_spent(self) -> int:
        """Gmail quota units this object spent, for the benchmark."""
        return self._http.units_spent

    def batch(self, calls: Sequence[Call]) -> list[Answer]:
        return run_batch(self._http, calls, self._sleep)

    def _get(self, path: str, *, what: str, **params: Any) -> dict[str, Any]:
        data = self._http.request("GET", ME + path, what=what, params=params or None).json()
        return data if isinstance(data, dict) else {}

    # -- labels: Gmail's folders ---------------------------------------------------------

    def label_id(self, folder: str, *, create: bool = True) -> str:
        """A well-known folder's system label, else the user label of that name (any case),
        created when missing (and ``create``); :class:`MailNotFound` otherwise."""
        system = SYSTEM_LABELS.get(folder.lower())
        if system is not None or folder.upper() in SYSTEM_LABELS.values():
            return system or folder.upper()
        with self._lock:
            if folder.lower() not in self._labels:
                self._read_labels()
            if folder.lower() not in self._labels and create:
                self._create_label(folder)
            found = self._labels.get(folder.lower())
        if found is None:
            raise MailNotFound(f"gmail mailbox {self.address} has no label {folder!r}")
        return found

    def _read_labels(self) -> None:
        for label in self._get("/labels", what="labels.list").get("labels", []):
            self._labels[str(label["name"]).lower()] = str(label["id"])

    def _create_label(self, name: str) -> None:
        try:
            created = self._http.request(
                "POST", ME + "/labels", what="labels.create", json={"name": name}
            ).json()
        except MailError:
            self._read_labels()  # made by another process meanwhile (409): read it
            if name.lower() in self._labels:
                return
            raise
        self._labels[name.lower()] = str(created["id"])
