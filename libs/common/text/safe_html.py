"""Sanitising mail HTML before anyone sees it: the ticketer stores it, the console shows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import unquote

import nh3

# Links may use the usual schemes; images may only show what the mail itself carries
# (``cid:`` inline parts, ``data:image/``): a remote image is a read receipt for the sender
# (tracking pixel) every time an agent opens the record, so it is removed (alt text stays).
_URL_SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES) | {"cid", "data"}
_IMAGE_SOURCES = ("cid:", "data:image/")

Filter = Callable[[str, str, str], str | None]


def content_id_key(value: str) -> str:
    """A Content-ID as a ``cid:`` URL names it and as a part's header carries it, alike:
    percent-decoded (RFC 2392), without its angle brackets, case-folded."""
    text = value.strip()
    if text[:4].lower() == "cid:":
        text = unquote(text[4:])
    return text.strip().strip("<>").strip().lower()


def _attribute_filter(images: Mapping[str, str] | None) -> Filter:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        lowered = value.strip().lower()
        if tag == "img" and attribute == "src":
            if lowered.startswith("cid:"):
                # Stored: the cid: kept for the page to resolve. On a page: the image the mail
                # carries under that name, or no source (its alt text shows; a cid: would
                # only be refused by the page's policy): never a value of the mail's own.
                if images is None:
                    return value
                return images.get(content_id_key(value))
            return value if lowered.startswith(_IMAGE_SOURCES) else None
        if lowered.startswith("data:") or lowered.startswith("cid:"):
            return None  # data: links can carry a whole HTML page; cid: means nothing in a link
        return value

    return keep


def sanitize_html(html: str, images: Mapping[str, str] | None = None) -> str:
    """nh3 with its default safe tags and attributes; scripts, styles, event handlers,
    ``javascript:`` links and remote images removed. ``images`` (a page's) maps a Content-ID
    (:func:`content_id_key`) to the URL an ``<img src="cid:…">`` of it is given instead; a
    ``cid:`` it does not map loses its source. Without ``images`` (storing) ``cid:`` stays."""
    return nh3.clean(
        html,
        clean_content_tags={"script", "style", "title", "head"},
        url_schemes=set(_URL_SCHEMES),
        attribute_filter=_attribute_filter(images),
    )
