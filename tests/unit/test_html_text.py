"""The regex whitespace folding behaves exactly as inscriptis' own, block by block and on
whole documents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from inscriptis import get_text
from inscriptis.model.canvas.block import Block
from inscriptis.model.canvas.prefix import Prefix

from libs.common.text import html as html_text

# White space of every kind str.isspace knows, entities, and plain characters.
_TEXT = st.lists(
    st.sampled_from([" ", "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u2003", "\u3000", "\x1c"])
    | st.sampled_from(["a", "Zé", "&amp;", "&lt;x&gt;", "&nbsp;", "1", "·"]),
    max_size=12,
).map("".join)


def _block(padding: int, bullet: str) -> Block:
    prefix = Prefix()
    prefix.register_prefix(padding, bullet)
    return Block(0, prefix)


def _state(block: Block) -> tuple[object, ...]:
    p = block.prefix
    return (block._content, block.idx, block.collapsable_whitespace, p.consumed, tuple(p.bullets))


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXT, max_size=6), st.integers(0, 4), st.sampled_from(["", "* ", "1. "]))
def test_block_folding_matches_the_original(texts: list[str], padding: int, bullet: str) -> None:
    ours, theirs = _block(padding, bullet), _block(padding, bullet)
    for text in texts:
        html_text._merge_normal_text(ours, text)
        html_text._ORIGINAL(theirs, text)
        assert _state(ours) == _state(theirs)


_TAG = st.sampled_from(["p", "div", "span", "b", "li", "td", "pre", "h1", "blockquote"])


@st.composite
def _documents(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        tag = draw(_TAG)
        parts.append(f"<{tag}>{draw(_TEXT)}</{tag}>{draw(_TEXT)}")
    return "<html><body><ul>" + "".join(parts) + "</ul><table><tr><td>a b</td></tr></table>"


@settings(max_examples=200, deadline=None)
@given(_documents())
def test_whole_documents_read_the_same(document: str) -> None:
    ours = html_text.html_to_text(document)
    Block.merge_normal_text = html_text._ORIGINAL
    try:
        theirs = get_text(document).strip("\n")
    finally:
        Block.merge_normal_text = html_text._merge_normal_text
    assert ours == theirs


def test_a_mail_reads_as_text() -> None:
    mail = "<p>Hello&nbsp;team,</p>\n<ul><li>printer   jams</li><li>tray\t2</li></ul>"
    assert html_text.html_to_text(mail) == "Hello team,\n\n  * printer jams\n  * tray 2"
