"""What every part of :class:`GraphMail` stands on: one mailbox's HTTP client, its lifetime,
its folder ids, message URLs, JSON GETs and ``$batch``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Self
from urllib.parse import quote

import httpx

from libs.common.fastjson import loads
from libs.common.graph._attachments import AttachmentReader
from libs.common.graph._batch import run_batch
from libs.common.graph._clients import acquire_client
from libs.common.graph._folders import FolderResolver
from libs.common.graph._http import (
    PREFER_IMMUTABLE,
    GraphHttp,
    RetryEvent,
    TokenProvider,
)
from libs.common.graph._retry import RetryPolicy
from libs.common.graph.auth import TokenSource
from libs.common.graph.models import BatchOutcome, BatchRequest
from libs.common.settings import GraphConfig, MailboxConfig


class MailboxBase:
    """One mailbox's client and plumbing; the operations are in the classes GraphMail joins."""

    def __init__(
        self,
        graph: GraphConfig,
        mailbox: MailboxConfig,
        *,
        tokens: TokenProvider | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.address = mailbox.address
        self._client, self._release_client = acquire_client(graph, transport)
        self._sleep = sleep
        self._http = GraphHttp(
            graph,
            mailbox.address,
            tokens or TokenSource(graph, mailbox),
            client=self._client,
            policy=policy,
            sleep=sleep,
            on_retry=on_retry,
        )
        self._user = f"/users/{quote(mailbox.address, safe='@')}"
        self._folders = FolderResolver(self._http, self._user)
        self._attachments = AttachmentReader(self._http, self._msg, self.batch)

    def __repr__(self) -> str:
        return f"GraphMail(mailbox={self.address!r}, base_url={self._http.base_url!r})"

    def close(self) -> None:
        self._release_client()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def retry_budget(self, budget_s: float) -> AbstractContextManager[None]:
        """Within the block, the calling thread's requests retry for at most ``budget_s``
        seconds (never longer than the client's own budget); other threads are unaffected."""
        return self._http.retry_budget(budget_s)

    @property
    def requests_sent(self) -> int:
        """HTTP requests this object sent (retries included), for the benchmark."""
        return self._http.requests_sent

    # -- batches -------------------------------------------------------------------------

    def batch(self, items: Sequence[BatchRequest]) -> list[BatchOutcome]:
        """Any requests as ``$batch`` (≤ 20 each, throttled items retried); in input order."""
        return run_batch(
            items,
            lambda body: loads(
                self._http.request("POST", "/$batch", what="$batch", json=body).content
            ),
            prefer=PREFER_IMMUTABLE,
            policy=self._http.policy,
            sleep=self._sleep,
            clock=time.monotonic,
        )

    # -- folders -------------------------------------------------------------------------

    def folder_id(self, name: str, *, create: bool = True) -> str:
        """A well-known name as is; otherwise the id of the top-level folder of that display
        name, created when missing (and ``create``)."""
        return self._folders.folder_id(name, create=create)

    def _folder_ref(self, folder: str) -> str:
        return quote(self.folder_id(folder, create=False), safe="")

    # -- plumbing ------------------------------------------------------------------------

    def _msg(self, message_id: str) -> str:
        return f"{self._user}/messages/{quote(message_id, safe='')}"

    def _get_json(
        self,
        url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        prefer: Sequence[str] = (),
    ) -> dict[str, Any]:
        response = self._http.request("GET", url, what=what, params=params, prefer=prefer)
        data = loads(response.content)
        return data if isinstance(data, dict) else {}
