"""Received attachments: one message's by plain GETs, many messages' by ``$batch``.

A message's attachment list is one page or more (``@odata.nextLink``, followed as given); an
attachment listed without ``contentBytes`` has its bytes fetched on its own (``/$value``).
:meth:`AttachmentReader.get_many` lists the attachments of up to 20 messages per ``$batch``
(throttled items retried like any batch item) and does the same follow-ups with plain GETs,
so every message ends with its attachments or its own typed error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from libs.common.fastjson import loads
from libs.common.graph._http import GraphHttp
from libs.common.graph.errors import GraphAuthError, GraphError, GraphUnavailable
from libs.common.graph.models import Attachment, BatchOutcome, BatchRequest
from libs.common.mail.errors import MailError
from libs.common.mail.models import AttachmentKind

#: Runs batch items (≤ 20 per ``$batch``, throttled items retried); outcomes in input order.
BatchRunner = Callable[[Sequence[BatchRequest]], list[BatchOutcome]]


class AttachmentReader:
    def __init__(
        self, http: GraphHttp, message_url: Callable[[str], str], batch: BatchRunner
    ) -> None:
        self._http = http
        self._msg = message_url
        self._batch = batch

    def get(self, message_id: str) -> list[Attachment]:
        """Every attachment of one message with its bytes decoded."""
        return self._collect(message_id, self._page(f"{self._msg(message_id)}/attachments"))

    def get_many(self, message_ids: Iterable[str]) -> dict[str, list[Attachment] | MailError]:
        """Attachments per message id (duplicates once, in input order), or that message's
        typed error (:class:`GraphNotFound` when it is gone). A failure of a ``$batch``
        request itself, and any authentication failure, raises."""
        ids = list(dict.fromkeys(message_ids))
        items = [
            BatchRequest(str(n), "GET", f"{self._msg(mid)}/attachments")
            for n, mid in enumerate(ids)
        ]
        out: dict[str, list[Attachment] | MailError] = {}
        for mid, result in zip(ids, self._batch(items), strict=True):
            if result.error is not None:
                out[mid] = result.error
                continue
            try:
                out[mid] = self._collect(mid, _json_body(result))
            except GraphError as exc:
                if isinstance(exc, GraphAuthError) or exc.status == 401:
                    raise  # not this message's fault: every other one would fail alike
                out[mid] = exc  # e.g. deleted between the batch and a /$value GET
        return out

    def _collect(self, message_id: str, page: Mapping[str, Any]) -> list[Attachment]:
        out: list[Attachment] = []
        while True:
            out.extend(self.attachment(message_id, item) for item in page.get("value", []))
            link = page.get("@odata.nextLink")
            if not link:
                return out
            page = self._page(str(link))

    def _page(self, url: str) -> Mapping[str, Any]:
        data = loads(self._http.request("GET", url, what="list attachments").content)
        return data if isinstance(data, Mapping) else {}

    def attachment(self, message_id: str, item: Mapping[str, Any]) -> Attachment:
        """One listed attachment; its bytes fetched separately when not inline."""
        odata_type = str(item.get("@odata.type") or "#microsoft.graph.fileAttachment")
        if item.get("contentBytes") is not None:
            content = base64.b64decode(item["contentBytes"])
        elif odata_type.endswith("fileAttachment") or odata_type.endswith("itemAttachment"):
            url = f"{self._msg(message_id)}/attachments/{quote(item['id'], safe='')}/$value"
            content = self._http.request("GET", url, what="get attachment").content
        else:
            content = b""  # a reference attachment is a link, not bytes
        return Attachment(
            id=str(item["id"]),
            kind=_kind(odata_type),
            name=str(item.get("name") or ""),
            content_type=str(item.get("contentType") or "application/octet-stream"),
            size=int(item.get("size") or len(content)),
            is_inline=bool(item.get("isInline")),
            content_id=item.get("contentId"),
            content=content,
        )


def _kind(odata_type: str) -> AttachmentKind:
    """The port's kind of a Graph ``@odata.type``; a type Graph may add later counts as a
    file (its bytes are kept when Graph lists them, as they always were)."""
    if odata_type.endswith("referenceAttachment"):
        return "reference"
    if odata_type.endswith("itemAttachment"):
        return "item"
    return "file"


def _json_body(result: BatchOutcome) -> Mapping[str, Any]:
    """A successful item's JSON body. Graph sends JSON as an object; other content types
    come base64-encoded, so a string is decoded before it is given up on."""
    body = result.body
    if isinstance(body, str):
        try:
            body = json.loads(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            body = None
    if isinstance(body, Mapping):
        return body
    raise GraphUnavailable(
        f"batch item {result.id} (list attachments) answered {result.status} without a JSON body",
        status=result.status,
        code="bad_batch_body",
        hint="Graph answered an unreadable attachment list; retried later",
    )
