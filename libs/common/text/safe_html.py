"""Sanitising mail HTML before anyone sees it: the ticketer stores it, the console shows it."""

from __future__ import annotations

import nh3

# Links may use the usual schemes; images may only show what the mail itself carries
# (``cid:`` inline parts, ``data:image/``): a remote image is a read receipt for the sender
# (tracking pixel) every time an agent opens the record, so it is removed (alt text stays).
_URL_SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES) | {"cid", "data"}
_IMAGE_SOURCES = ("cid:", "data:image/")


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if tag == "img" and attribute == "src":
        return value if lowered.startswith(_IMAGE_SOURCES) else None
    if lowered.startswith("data:") or lowered.startswith("cid:"):
        return None  # data: links can carry a whole HTML page; cid: means nothing in a link
    return value


def sanitize_html(html: str) -> str:
    """nh3 with its default safe tags and attributes; scripts, styles, event handlers,
    ``javascript:`` links and remote images removed."""
    return nh3.clean(
        html,
        clean_content_tags={"script", "style", "title", "head"},
        url_schemes=set(_URL_SCHEMES),
        attribute_filter=_keep_attribute,
    )
