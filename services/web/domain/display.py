"""How the console shows text that came in a mail (docs/console.md, "Text from mail").

A subject, a display name or a file name is whatever the sender chose. Bidirectional controls
turn it around (``invoice\\u202efdp.exe`` reads as "invoiceexe.pdf"), zero-width characters hide
a word inside another or make two names look alike, control characters make a terminal or a
browser do things. The console shows each such character as its code point (``[U+202E]``)
instead of letting it act; the pages isolate each value (``<bdi>``) so that right-to-left text
cannot reorder what stands around it either.

The joiners that writing needs are kept: a zero-width joiner or non-joiner between two
non-ASCII letters, marks or symbols (emoji sequences, Persian, the Indic scripts), and an emoji
variation selector after its character. Between ASCII letters (``pay\\u200dpal``) they are shown.

Mail bodies (``multiline``) keep tabs and line breaks, the marks and joiners of real
right-to-left and complex-script text; only controls, the embeddings, overrides and isolates,
and tag characters are shown there.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_ZERO_WIDTH_JOINERS = {"\u200c", "\u200d"}
_VARIATION_SELECTORS = {"\ufe0e", "\ufe0f"}
#: Keycap sequences ("1\ufe0f\u20e3") put a variation selector after these ASCII characters.
_KEYCAP_BASES = set("0123456789#*")
#: Embeddings, overrides and isolates: what reorders text (marks only shift punctuation).
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
#: Default-ignorable characters that are not in category Cf: drawn as nothing.
_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0"} | {
    chr(c) for c in range(0x180B, 0x1810)
}
_BODY_WHITESPACE = {"\t", "\n", "\r"}


@dataclass(frozen=True)
class Piece:
    """A run of text shown as it is, or a run of one hidden character shown as its code."""

    text: str
    #: For hidden characters: the character's name (a tooltip), else ``""``.
    name: str = ""
    #: How many of the hidden character stand in a row here.
    count: int = 1

    @property
    def hidden(self) -> bool:
        return bool(self.name)

    @property
    def shown(self) -> str:
        """What the page prints: the text, or ``[U+202E]`` (``[U+200B \u00d712]`` for a run)."""
        if not self.hidden:
            return self.text
        code = f"U+{ord(self.text[0]):04X}"
        return f"[{code}]" if self.count == 1 else f"[{code} \u00d7{self.count}]"


def pieces(text: str, *, multiline: bool = False) -> tuple[Piece, ...]:
    """``text`` cut into runs shown as they are and runs of hidden characters."""
    found: list[Piece] = []
    start = 0
    for index, char in enumerate(text):
        if not _hidden(text, index, multiline=multiline):
            continue
        if start < index:
            found.append(Piece(text[start:index]))
        start = index + 1
        last = found[-1] if found else None
        if last is not None and last.hidden and last.text == char:  # nothing shown between
            found[-1] = Piece(char, last.name, last.count + 1)
        else:
            found.append(Piece(char, _name(char)))
    if start < len(text):
        found.append(Piece(text[start:]))
    return tuple(found)


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with each hidden character written as its code point, for plain text."""
    return "".join(piece.shown for piece in pieces(text, multiline=multiline))


def _hidden(text: str, index: int, *, multiline: bool) -> bool:
    char = text[index]
    if char.isascii() and " " <= char <= "~":
        return False  # the common case, decided at once
    category = unicodedata.category(char)
    if category == "Cc":
        return not (multiline and char in _BODY_WHITESPACE)
    # Lone surrogates (undecodable input) cannot even be written out as UTF-8.
    if category == "Cs" or char in _BIDI_CONTROLS or 0xE0000 <= ord(char) <= 0xE0FFF:
        return True  # the last: tag characters and the supplementary variation selectors
    if multiline:
        return False
    if char in _ZERO_WIDTH_JOINERS:
        return not (_joinable(text, index - 1) and _joinable(text, index + 1))
    if char in _VARIATION_SELECTORS:
        previous = text[index - 1] if index > 0 else ""
        return not (previous in _KEYCAP_BASES or _joinable(text, index - 1))
    return category in ("Cf", "Zl", "Zp") or char in _INVISIBLE


def _joinable(text: str, index: int) -> bool:
    """A non-ASCII letter, mark, symbol or digit: what a joiner may stand between."""
    if not 0 <= index < len(text) or text[index].isascii():
        return False
    return unicodedata.category(text[index])[0] in "LMSN"


def _name(char: str) -> str:
    name = unicodedata.name(char, "")
    if name:
        return name
    return "control character" if unicodedata.category(char) == "Cc" else "invisible character"
