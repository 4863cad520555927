"""A thread's HTML as the record page and its live updates show it: sanitised, each
``<img src="cid:…">`` of an image its message carries given that image (docs/console.md,
"Inline images"; services/web/domain/inline_images.py says why as a ``data:`` URL)."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request

from libs.common.blobs import BlobStorage
from libs.common.contracts import BlobRef
from libs.common.db.record_views import MessageView
from libs.common.errors import MailpipeError
from libs.common.text.safe_html import content_id_key, sanitize_html
from services.web.domain.inline_images import cited_text, data_url, fits, names, shown_type
from services.web.image_cache import ImageCache


def thread_html(request: Request, thread: list[MessageView]) -> list[tuple[MessageView, str]]:
    """Each message with its HTML to show ("" when it has none)."""
    blobs: BlobStorage | None = request.app.state.blobs
    cache: ImageCache = request.app.state.image_cache
    shown: list[int] = []  # the sizes of the images shown so far, against the page's budget
    return [
        (m, sanitize_html(m.body_html, _images(blobs, cache, m, shown)) if m.body_html else "")
        for m in thread
    ]


def _images(
    blobs: BlobStorage | None, cache: ImageCache, message: MessageView, shown: list[int]
) -> dict[str, str]:
    """The ``data:`` URL of each image of ``message`` its HTML names, by Content-ID."""
    if blobs is None:
        return {}  # a console without a blob store: the images lose their source, alt shown
    text = cited_text(message.body_html or "")
    found: dict[str, str] = {}
    for part in message.attachments:
        key, kind = content_id_key(part.content_id or ""), shown_type(part.content_type)
        if not key or key in found or kind is None or not names(text, key):
            continue
        if not fits(shown, part.size):
            continue  # too large for the page: its download link is below the message
        ref = BlobRef(sha256=part.sha256, size=part.size)
        try:
            url = cache.get((ref.sha256, kind), partial(_read, blobs, ref, kind))
        except MailpipeError:
            continue  # unreadable now: no source, its alt text and download link shown
        shown.append(part.size)
        found[key] = url
    return found


def _read(blobs: BlobStorage, ref: BlobRef, kind: str) -> str:
    return data_url(kind, blobs.get(ref))
