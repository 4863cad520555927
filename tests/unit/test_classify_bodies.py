"""Bodies: sanitising, text from HTML, truncation, quoted-reply stripping."""

from __future__ import annotations

import pytest

from libs.common.text.html import html_to_text
from services.ticketer.domain.bodies import (
    body_text,
    sanitize_html,
    strip_quoted,
    truncate,
)


def test_sanitize_removes_scripts_styles_handlers_and_javascript_links() -> None:
    dirty = (
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        '<p onclick="steal()">Hello <b>bold</b> <i>it</i></p>'
        "<script>alert(1)</script>"
        '<a href="javascript:alert(1)">bad</a> <a href="https://kunde.example/x">good</a>'
        '<iframe src="https://evil.example"></iframe>'
        "<table><tr><td>cell</td></tr></table></body></html>"
    )
    clean = sanitize_html(dirty)
    for gone in ("script", "alert", "style", "color:red", "onclick", "javascript:", "iframe"):
        assert gone not in clean
    assert "<b>bold</b>" in clean and "<i>it</i>" in clean
    assert '<a href="https://kunde.example/x" rel="noopener noreferrer">good</a>' in clean
    assert "<td>cell</td>" in clean


def test_sanitize_drops_remote_images_and_keeps_inline_ones() -> None:
    clean = sanitize_html(
        '<img src="https://tracker.example/p.gif" width="1" alt="pixel">'
        '<img src="cid:logo@kunde.example" alt="logo">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>'
    )
    assert "tracker.example" not in clean
    assert 'alt="pixel"' in clean  # the image stays, without a source
    assert 'src="cid:logo@kunde.example"' in clean
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    assert "data:text/html" not in clean


def test_text_is_derived_from_html_only_when_there_is_no_text() -> None:
    html = "<p>Hello</p><ul><li>one</li><li>two</li></ul>"
    derived = html_to_text(html)
    assert "Hello" in derived and "* one" in derived and "* two" in derived
    assert body_text(None, html) == derived
    assert body_text("  \n", html) == derived
    assert body_text("plain", html) == "plain"
    assert body_text(None, None) == ""


def test_truncate_flags_only_when_cut() -> None:
    assert truncate("abc", 3) == ("abc", False)
    assert truncate("abcdef", 4) == ("abcd", True)
    assert truncate("äöü", 0) == ("", True)
    with pytest.raises(ValueError):
        truncate("x", -1)


def test_strip_gmail_style_quote() -> None:
    text = (
        "Thanks, that fixed it.\n\n"
        "On Mon, 2 Nov 2026 at 10:00, Helpdesk <h@c.example> wrote:\n> Did you restart?\n"
    )
    assert strip_quoted(text) == "Thanks, that fixed it."


def test_strip_wrapped_on_wrote_line() -> None:
    text = (
        "Yes.\n\nOn Mon, 2 Nov 2026 at 10:00, Helpdesk Team of Contoso\n"
        "<helpdesk@contoso.example> wrote:\n> old\n"
    )
    assert strip_quoted(text) == "Yes."


def test_strip_outlook_header_block() -> None:
    text = (
        "Still broken.\r\n\r\n"
        "From: Helpdesk <helpdesk@contoso.example>\r\n"
        "Sent: Monday, November 2, 2026 10:00 AM\r\n"
        "To: Alice <alice@kunde.example>\r\n"
        "Subject: [#42] Printer\r\n\r\nDid you restart?\r\n"
    )
    assert strip_quoted(text) == "Still broken."


def test_strip_original_message_separator_and_underscores() -> None:
    assert strip_quoted("New.\n-----Original Message-----\nFrom: x\nold") == "New."
    assert strip_quoted("Neu.\n\n-----Ursprüngliche Nachricht-----\nalt") == "Neu."
    assert strip_quoted("New.\n________________________________\nFrom: x\nSent: y\nold") == "New."


def test_inline_quotes_are_dropped_and_answers_kept() -> None:
    text = "> Did you restart?\nYes, twice.\n> Which model?\nLaserJet 4."
    assert strip_quoted(text) == "Yes, twice.\nLaserJet 4."


def test_a_from_line_in_the_new_text_is_not_a_quote_header() -> None:
    text = "From: the third floor, the printer jams.\nPlease help."
    assert strip_quoted(text) == text


def test_nothing_new_keeps_the_whole_text() -> None:
    text = "> only quoted\n> lines"
    assert strip_quoted(text) == text
