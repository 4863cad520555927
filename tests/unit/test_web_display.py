"""Text from mail as the console shows it: bidirectional controls, zero-width and control
characters become visible code points; the joiners real writing needs are kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.web.domain.display import Piece, pieces, visible


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # the classic: "invoice" RLO "fdp.exe" reads as "invoiceexe.pdf"
        ("invoice\u202efdp.exe", "invoice[U+202E]fdp.exe"),
        ("\u202bEmbedded\u202c", "[U+202B]Embedded[U+202C]"),
        ("\u2067isolated\u2069", "[U+2067]isolated[U+2069]"),
        ("\u200fsubject", "[U+200F]subject"),
        ("pay\u200bpal", "pay[U+200B]pal"),
        ("pay\u200dpal", "pay[U+200D]pal"),
        ("pay\u2060pal", "pay[U+2060]pal"),
        ("\ufeffInvoice", "[U+FEFF]Invoice"),
        ("Invoice\u00ad", "Invoice[U+00AD]"),
        ("line\nbreak", "line[U+000A]break"),
        ("tab\there", "tab[U+0009]here"),
        ("bell\x07 and escape \x1b[2J", "bell[U+0007] and escape [U+001B][2J"),
        ("nul\x00", "nul[U+0000]"),
        ("del\x7f and c1 \x85", "del[U+007F] and c1 [U+0085]"),
        ("para\u2029graph", "para[U+2029]graph"),
        ("hangul\u3164filler", "hangul[U+3164]filler"),
        # tag characters smuggle ASCII invisibly ("hi" in tags)
        ("ok\U000e0068\U000e0069", "ok[U+E0068][U+E0069]"),
        ("a\u200b\u200b\u200b\u200bb", "a[U+200B \u00d74]b"),
        ("a\u200b\u200cb", "a[U+200B][U+200C]b"),
        ("lone \udc80 surrogate", "lone [U+DC80] surrogate"),
        ("plain ASCII subject", "plain ASCII subject"),
    ],
)
def test_hidden_characters_of_a_subject_are_shown_as_code_points(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Grüße aus Köln",
        "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",  # Hebrew
        "\u0645\u0631\u062d\u0628\u0627",  # Arabic
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with its ZWNJ
        "\u0915\u094d\u200d\u0937",  # Devanagari with a ZWJ
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family emoji sequence
        "\u2764\ufe0f thanks",  # heart with the emoji variation selector
        "1\ufe0f\u20e3 first",  # keycap one
        "自動応答: 打印机",
        "\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48",  # full-width letters
    ],
)
def test_real_writing_is_shown_as_it_is(text: str) -> None:
    assert visible(text) == text
    assert pieces(text) == (Piece(text),)


def test_a_body_keeps_its_lines_tabs_and_marks_but_not_its_overrides() -> None:
    shalom = "\u05e9\u05dc\u05d5\u05dd"
    body = f"Hello,\r\n\tthe file is invoice\u202efdp.exe\n\u200f{shalom}\u200b\x1b"
    assert visible(body, multiline=True) == (
        f"Hello,\r\n\tthe file is invoice[U+202E]fdp.exe\n\u200f{shalom}\u200b[U+001B]"
    )


def test_pieces_name_each_hidden_character() -> None:
    assert pieces("a\u202eb\x00") == (
        Piece("a"),
        Piece("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        Piece("b"),
        Piece("\x00", "control character"),
    )
    run = pieces("\u200b" * 3)
    assert run == (Piece("\u200b", "ZERO WIDTH SPACE", 3),)
    assert run[0].hidden and run[0].shown == "[U+200B \u00d73]"


@given(st.text())
def test_nothing_that_reorders_or_hides_text_is_left(text: str) -> None:
    shown = visible(text)
    assert not any(c in shown for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert not any(c in shown for c in "\x00\x1b\n\r\u200b\u2060\ufeff")
    shown.encode("utf-8")  # no lone surrogate is left to fail the page
    # every character of the input is either shown or accounted for by a piece
    assert sum(len(p.text) * (p.count if p.hidden else 1) for p in pieces(text)) == len(text)
