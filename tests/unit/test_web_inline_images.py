"""Inline images of a mail's HTML (docs/console.md, "Inline images"): a ``cid:`` image the
message carries becomes a ``data:`` URL of our making; any other ``cid:`` loses its source on
a page (and stays when stored, for the page to resolve); a hostile Content-ID never reaches
the HTML; remote images stay removed."""

from __future__ import annotations

import re

from libs.common.text.safe_html import content_id_key, sanitize_html
from services.web.domain.inline_images import (
    MAX_IMAGE_BYTES,
    MAX_THREAD_BYTES,
    cited_text,
    data_url,
    fits,
    names,
    shown_type,
)

PNG = data_url("image/png", b"\x89PNG\r\n\x1a\n")


def _sources(html: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]*)"', html)


def test_a_cid_image_the_mail_carries_is_given_its_data_url() -> None:
    html = (
        '<p>Logo: <img src="cid:Logo%40Example.COM" alt="logo"></p>'
        '<img src="cid:<logo@example.com>" alt="again">'
        '<img src="https://tracker.example/p.gif" alt="pixel">'
        '<a href="cid:logo@example.com">a link</a>'
    )
    shown = sanitize_html(html, {"logo@example.com": PNG})
    assert _sources(shown) == [PNG, PNG]
    assert PNG == "data:image/png;base64,iVBORw0KGgo="
    assert "tracker.example" not in shown and 'alt="pixel"' in shown  # remote: still removed
    assert "cid:" not in shown.split("<a", 1)[1]  # a cid: link means nothing: dropped


def test_an_unknown_cid_loses_its_source_on_a_page_and_is_kept_when_stored() -> None:
    shown = sanitize_html('<img src="cid:nothing@here" alt="gone">', {"logo@x": PNG})
    assert _sources(shown) == [] and shown == '<img alt="gone">'  # its alt text shows
    assert sanitize_html('<img src="cid:logo@x">', {}) == "<img>"
    assert sanitize_html('<img src="cid:logo@x">') == '<img src="cid:logo@x">'


def test_a_hostile_content_id_never_reaches_the_html() -> None:
    quote = 'x" onerror="alert(1)'
    html = (
        "<img src='cid:x\" onerror=\"alert(1)'>"
        '<img src="cid:javascript:alert(2)">'
        '<img src="cid:javascript:alert(3)">'
    )
    text = cited_text(html)
    assert names(text, content_id_key(f"<{quote}>")) and names(text, "javascript:alert(2)")
    assert not names(text, "x@y")
    shown = sanitize_html(html, {content_id_key(quote): PNG, "javascript:alert(2)": PNG})
    sources = _sources(shown)
    assert sources == [PNG, PNG]  # the third is not the mail's: no source at all
    assert "onerror" not in shown and not re.search(r'src="\s*javascript:', shown)


def test_content_ids_are_compared_as_urls_and_headers_name_them() -> None:
    assert content_id_key("<Part1.ABC@Example.com>") == "part1.abc@example.com"
    assert content_id_key("cid:part1.abc%40example.com") == "part1.abc@example.com"
    assert content_id_key("  CID:<a%20b@x>  ") == "a b@x"


def test_only_pictures_are_shown_never_svg() -> None:
    assert shown_type("image/png") == "image/png"
    assert shown_type("IMAGE/JPEG; name=photo.jpg") == "image/jpeg"
    for kind in ("image/svg+xml", "text/html", "application/pdf", "image", ""):
        assert shown_type(kind) is None, kind


def test_the_images_of_a_page_have_a_budget() -> None:
    assert fits([], MAX_IMAGE_BYTES) and not fits([], MAX_IMAGE_BYTES + 1)
    assert not fits([MAX_THREAD_BYTES - 10], 11) and fits([MAX_THREAD_BYTES - 10], 10)
