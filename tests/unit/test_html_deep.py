"""HTML bodies nested far deeper than any layout: the text still comes out (the HTML parser
under inscriptis stops building its tree at 256 levels and drops what lies deeper), and the
sanitiser keeps the content too."""

from __future__ import annotations

import pytest

from libs.common.text.html import MAX_HTML_DEPTH, html_depth, html_to_text
from libs.common.text.safe_html import sanitize_html
from services.ticketer.domain.bodies import body_text
from services.ticketer.domain.mime import parse_mime

DEEP = 10_000


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * DEEP + "Printer on floor 3 jams &amp; smokes" + "</div>" * DEEP,
        "<html><body>" + "<span><b>" * DEEP + "Printer on floor 3 jams &amp; smokes",
        "<table><tr><td>" * DEEP + "Printer on floor 3 jams &amp; smokes",
    ],
)
def test_ten_thousand_levels_still_give_the_text(html: str) -> None:
    text = html_to_text("<p>Hello,</p>" + html + "<p>Regards, Ann</p>")
    assert "Hello," in text
    assert "Printer on floor 3 jams & smokes" in text
    assert "Regards, Ann" in text
    assert "<" not in text
    assert "Printer on floor 3 jams &amp; smokes" in sanitize_html(html)


def test_a_deep_html_only_mail_becomes_a_record_text() -> None:
    html = b"<div>" * DEEP + b"<p>Bitte um R\xc3\xbcckruf</p>" + b"</div>" * DEEP
    raw = (
        b"From: ann@x.test\r\nSubject: deep html\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html + b"\r\n"
    )
    facts = parse_mime(raw).facts
    assert body_text(facts.text, facts.html).strip() == "Bitte um Rückruf"


def test_ordinary_html_keeps_its_layout_and_depth_is_counted_as_parsers_nest() -> None:
    html = "<ul><li>one<li>two</ul><table><tr><td>a<td>b</table>" + "<p>para" * 400
    assert html_depth(html) < MAX_HTML_DEPTH  # unclosed <p>, <li>, <td> do not nest
    text = html_to_text(html)
    assert "* one" in text and "* two" in text and text.count("para") == 400
    assert html_depth("<div>" * 150 + "<br><img src=x><hr/><x/>" + "</div>" * 150) == 150
    assert html_depth("<div>" * 300 + "</div>" * 300) > MAX_HTML_DEPTH


def test_very_large_html_is_read_whole() -> None:
    rows = "".join(f"<tr><td>row {i}</td><td>ok</td></tr>" for i in range(150_000))
    text = html_to_text(f"<p>Inventory</p><table>{rows}</table><p>The end</p>")
    assert text.startswith("Inventory") and text.endswith("The end")
    assert text.count("row ") == 150_000


def test_tags_stripped_text_drops_what_no_reader_sees() -> None:
    from libs.common.text.html import strip_tags

    html = (
        "<head><title>t</title></head><style>p {}</style><!-- note -->"
        "<p>Hello &amp; welcome</p><script>alert(1)</script><div>bye<br>now</div>"
    )
    assert strip_tags(html) == "Hello & welcome\nbye\nnow"
    assert strip_tags("<p>kept</p><script>" * 20_000) == "kept"
    assert strip_tags("<p>kept</p><!-- never closed <p>lost</p>") == "kept"


def test_text_after_a_style_or_comment_survives_capital_dotted_i_before_it() -> None:
    """Lower-casing turns "İ" into two characters: offsets found in a lower-cased copy
    landed past the end of a style or comment and dropped the text after it."""
    deep = "<div>" * (MAX_HTML_DEPTH + 1)
    for hidden in ("<style>p{}</style>", "<!-- x -->"):
        html = f"{deep}<p>İZMİR İSTANBUL İNCİRLİ</p>{hidden}<p>Siparişim gelmedi.</p>"
        assert html_to_text(html).splitlines() == ["İZMİR İSTANBUL İNCİRLİ", "Siparişim gelmedi."]


@pytest.mark.timeout(60)  # a guard against the quadratic scan; the assertions are on results
def test_a_run_of_unclosed_tags_costs_one_scan() -> None:
    """Each "<" with no ">" after it was scanned to the end of the text by the depth count and
    by the tag stripping: 600 KB of "<p " took minutes."""
    tail = "<p " * 200_000
    assert html_to_text(f"<p>Order 12 is late</p>{tail}") == "Order 12 is late"
    deep = "<div>" * (MAX_HTML_DEPTH + 1)
    lines = html_to_text(f"{deep}<p>Order 12 is late</p>{tail}").splitlines()
    assert lines == ["Order 12 is late", tail.strip()]
