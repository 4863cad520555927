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

A forward marker quotequail finds ends the search: the forwarded message is the customer's
(a mail they bring us), so nothing from it on is cut, unless our rules find a reply header
before it. quotequail's cut is taken only where our invariants hold; where they do not, it
reads on from the next line (at most ``_MAX_TRIES`` times):

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

import re
from itertools import accumulate

import quotequail

from services.ticketer.domain.quotes import (
    MAX_ATTRIBUTION,
    continues_attribution,
    names_date_or_address,
    quote_start,
    starts_attribution,
)

__all__ = ["library_quote_start", "opens_forward", "reply_quote_start"]

_MAX_LINES = 300  # a reply's new text rarely runs longer before its quote
_MAX_CHARS = 16_000
_MAX_TRIES = 20
#: The words of quotequail's forward markers that say "forwarded" (its list also holds the
#: "Original Message" separators of replies).
_FORWARDED = re.compile(
    r"forward|weitergeleitet|réexpédié|reenviado|vidarebefordrat|doorgestuurd|transféré"
    r"|пересылаемое",
    re.IGNORECASE,
)


def reply_quote_start(text: str, *, quote_follows: bool = False) -> int | None:
    """The offset of the first quote header in ``text``, or ``None``: quotequail's cut, or
    an earlier one our rules find before it. ``quote_follows``: the caller knows quoted text
    comes after ``text``, so a header on the last line counts too."""
    found = _library_header(text, quote_follows=quote_follows)
    cut = found[0] if found else None
    head = text if cut is None else text[:cut]
    own = quote_start(head, quote_follows=quote_follows or cut is not None)
    if own is not None:
        return own
    # A forwarded message is what the customer brings, not our history: it stays in the text
    # (a plain-text mail has nothing else that keeps it).
    return None if found and found[1] else cut


def opens_forward(text: str) -> bool:
    """Whether ``text`` opens with a forward marker quotequail knows (what an HTML quote
    container holds when the customer forwarded a mail rather than quoted ours)."""
    found = _library_header(text, quote_follows=True)
    return found is not None and found[1] and not text[: found[0]].strip()


def library_quote_start(text: str, *, quote_follows: bool = False) -> int | None:
    """The offset of the first header quotequail finds in ``text`` that our invariants accept
    (module docstring), or ``None``."""
    found = _library_header(text, quote_follows=quote_follows)
    return found[0] if found else None


def _library_header(text: str, *, quote_follows: bool) -> tuple[int, bool] | None:
    """The offset of quotequail's first acceptable header, and whether it opens a forward."""
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
        kind = _kind(fed[at : at + length]) if follows else None
        if kind is not None:
            return starts[at], kind == "forward"
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


def _kind(header: list[str]) -> str | None:
    """``"forward"`` or ``"reply"`` for header lines quotequail found that our invariants
    accept (module docstring); ``None`` when they refuse them."""
    if header[0].lstrip().startswith(">"):
        return None
    if len(header) == 2 and not (
        starts_attribution(header[0]) and continues_attribution(header[0], header[1])
    ):
        return None
    joined = " ".join(line.strip() for line in header)
    # quotequail's own word on what it found: a forward marker needs no date or address.
    unwrapped = quotequail.unwrap(joined) or {}
    if unwrapped.get("type") == "forward":
        # quotequail calls Outlook's "Original Message" separators forwards too: they open
        # our quoted history; only a marker that says forwarded opens a mail the customer brings.
        return "forward" if _FORWARDED.search(joined) else "reply"
    return "reply" if len(joined) <= MAX_ATTRIBUTION and names_date_or_address(joined) else None
