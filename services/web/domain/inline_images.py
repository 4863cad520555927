"""Which of a message's parts its HTML may show as an inline image (docs/console.md,
"Inline images"), and how: as a ``data:`` URL in the sandboxed frame's HTML.

Not as a link to the attachment: the frame is sandboxed without ``allow-same-origin``, so its
document has an opaque origin and browsers send no SameSite cookie with its requests; a link
would load the sign-in redirect, not the picture. A ``data:`` URL needs no request at all
(the page's policy allows ``img-src data:``)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from html import unescape
from urllib.parse import unquote

MIB = 1024 * 1024
#: Pictures a browser draws and never runs: SVG is a document (scripts, links), so it is not
#: among them and stays a download, as every other type does.
SHOWN_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}
)
#: An image larger than this stays a download link (the page carries each image it shows).
MAX_IMAGE_BYTES = 3 * MIB
#: What all the images of one thread may add to its page (and to each live update).
MAX_THREAD_BYTES = 8 * MIB


def shown_type(content_type: str) -> str | None:
    """The image type a part is shown as (its parameters dropped), or ``None``."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if kind in SHOWN_TYPES else None


def cited_text(html: str) -> str:
    """The HTML as :func:`names` reads it: entities and percent escapes decoded, case-folded."""
    return unquote(unescape(html)).lower()


def names(text: str, key: str) -> bool:
    """Whether the HTML (:func:`cited_text`) has a ``cid:`` URL of the Content-ID ``key``;
    a wrong "yes" only reads an image that is then not used."""
    return f"cid:{key}" in text or f"cid:<{key}>" in text


def data_url(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def fits(sizes: Iterable[int], size: int) -> bool:
    """Whether an image of ``size`` bytes may join those already shown on the page."""
    return size <= MAX_IMAGE_BYTES and sum(sizes) + size <= MAX_THREAD_BYTES
