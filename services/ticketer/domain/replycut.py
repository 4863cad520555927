"""Where the quoted history of a plain-text reply starts: quotequail reads first, our rules
(:mod:`services.ticketer.domain.quotes`) extend it.

quotequail's ``quote`` knows the "On … wrote:" attributions of Gmail, Apple Mail and
Thunderbird in English, German, French, Spanish, Portuguese, Dutch, Swedish and Russian, also
wrapped over two lines, the "-----Original Message-----" separator in English, German, Spanish
and Dutch, the forward markers ("Begin forwarded message:", "---------- Forwarded message
---------", their translations) and OWA's line of underscores. What it misses, our rules find
in the text before its cut:

==========================================  ==========================================
quotequail misses                           our rule
==========================================  ==========================================
Outlook's From/Sent/To/Subject block        ``is_outlook_block`` (its languages)
"-----Message d'origine-----", Italian …    ``_SEPARATOR``
Italian, Polish, Chinese, Japanese          ``_ATTRIBUTION`` (its verbs)
attributions; no-break spaces in them
Yahoo's "--- On … wrote:", Android's        ``_ATTRIBUTION`` (anywhere in the line)
"… написал:"
an attribution wrapped over three lines     ``_header_length``
==========================================  ==========================================

quotequail's cut is taken only where our invariants hold; where they do not, it reads on from
the next line (at most ``_MAX_TRIES`` times):

- something follows the header (quotequail cuts at a header on the last line too);
- a reply attribution names a date or an address ("On reflection my colleague wrote:" is the
  customer's own sentence), and is not itself in a ``>`` line (inline answers stay);
- a header it joined from two lines starts on a line that opens an attribution, and the second
  line does not open one of its own (the customer's last line "On Monday it jammed twice" is
  not the first half of the attribution after it).

Some of quotequail's patterns backtrack quadratically on a long line ("Am schrieb schrieb …":
10 s for 96 KB; "Op heeft heeft …": 66 s) and it spends about 45 µs a line (ten times our
rules), so it reads at most the first ``_MAX_LINES`` lines and ``_MAX_CHARS`` characters, each
line longer than any header (``MAX_ATTRIBUTION``) handed to it blank; our rules, linear, read
the whole text.
"""

from __future__ import annotations

from itertools import accumulate

import quotequail

from services.ticketer.domain.quotes import (
    MAX_ATTRIBUTION,
    continues_attribution,
    names_date_or_address,
    quote_start,
    starts_attribution,
)

__all__ = ["library_quote_start", "reply_quote_start"]

_MAX_LINES = 300  # a reply's new text rarely runs longer before its quote
_MAX_CHARS = 16_000
_MAX_TRIES = 20


def reply_quote_start(text: str, *, quote_follows: bool = False) -> int | None:
    """The offset of the first quote header in ``text``, or ``None``: quotequail's cut, or
    an earlier one our rules find before it. ``quote_follows``: the caller knows quoted text
    comes after ``text``, so a header on the last line counts too."""
    cut = library_quote_start(text, quote_follows=quote_follows)
    head = text if cut is None else text[:cut]
    own = quote_start(head, quote_follows=quote_follows or cut is not None)
    return own if own is not None else cut


def library_quote_start(text: str, *, quote_follows: bool = False) -> int | None:
    """The offset of the first header quotequail finds in ``text`` that our invariants accept
    (module docstring), or ``None``."""
    raw = text.split("\n")  # quotequail's own line split
    starts = [0, *accumulate(len(line) + 1 for line in raw)]
    fed = _fed_lines(raw)
    last = len(text.rstrip())
    at = 0
    for _ in range(_MAX_TRIES):
        found = _first_header(fed, at)
        if found is None:
            return None
        at, length = found
        follows = quote_follows or starts[at + length] < last
        if follows and _acceptable(fed[at : at + length]):
            return starts[at]
        at += 1
    return None


def _fed_lines(raw: list[str]) -> list[str]:
    """The lines quotequail reads: the first ``_MAX_LINES`` within ``_MAX_CHARS``, each longer
    than a header blank (so its quadratic patterns meet only short lines)."""
    fed: list[str] = []
    total = 0
    for line in raw[:_MAX_LINES]:
        kept = line if len(line) <= MAX_ATTRIBUTION else ""
        total += len(kept) + 1
        if total > _MAX_CHARS:
            break
        fed.append(kept)
    return fed


def _first_header(fed: list[str], at: int) -> tuple[int, int] | None:
    """The line where quotequail's first header from line ``at`` on starts, and how many lines
    it takes (quotequail joins at most two)."""
    rest = fed[at:]
    if not rest:
        return None
    # ``limit`` past the end: quotequail otherwise cuts at its limit when it finds nothing.
    parts = quotequail.quote("\n".join(rest), limit=len(rest) + 1, quote_intro_line=True)
    if len(parts) < 2:
        return None
    start = len(fed) - (parts[1][1].count("\n") + 1)
    alone = len(quotequail.quote(fed[start], limit=2, quote_intro_line=True)) == 2
    return start, 1 if alone else 2


def _acceptable(header: list[str]) -> bool:
    """Our invariants over the header lines quotequail found (module docstring)."""
    if header[0].lstrip().startswith(">"):
        return False
    if len(header) == 2 and not (
        starts_attribution(header[0]) and continues_attribution(header[0], header[1])
    ):
        return False
    joined = " ".join(line.strip() for line in header)
    # quotequail's own word on what it found: a forward marker needs no date or address.
    unwrapped = quotequail.unwrap(joined) or {}
    if unwrapped.get("type") == "forward":
        return True
    return len(joined) <= MAX_ATTRIBUTION and names_date_or_address(joined)
