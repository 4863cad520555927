"""Bodies: text from HTML, truncation, and stripping quoted reply text (the HTML sanitiser
lives in libs/common/text/safe_html.py: the console shows quarantined mail through it)."""

from __future__ import annotations

import re

from libs.common.text.html import html_to_text
from libs.common.text.safe_html import sanitize_html

__all__ = ["body_text", "sanitize_html", "strip_quoted", "truncate"]


def body_text(text: str | None, html: str | None) -> str:
    """The text body, derived from the HTML one when the mail has only HTML."""
    if text and text.strip():
        return text
    return html_to_text(html) if html else ""


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """At most ``limit`` characters, and whether anything was cut."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(text) <= limit:
        return text, False
    return text[:limit], True


_SEPARATORS = re.compile(
    r"^[ \t]*(?:"
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)"
    r"\s*-{2,}"
    r"|_{10,}"
    r"|(?:on|am|le|el|il|op) \S.{0,200}?(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef)"
    r"\s*:"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Outlook's header block: From:, then Sent:/Date: and To:/Subject: within a few lines.
_OUTLOOK_FROM = re.compile(r"^[ \t]*\*?(?:from|von|de|da)\s*:\*?\s+\S.*$", re.I | re.M)
_OUTLOOK_NEXT = re.compile(r"^[ \t]*\*?(?:sent|date|gesendet|envoyé|enviado)\s*:", re.I | re.M)


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first quote header, drop ``>`` lines.

    Returns the text unchanged when nothing new would remain (a bare forward, say).
    """
    cut = _first_cut(text)
    head = text[:cut] if cut is not None else text
    kept = [line for line in head.splitlines() if not line.lstrip().startswith(">")]
    new = "\n".join(kept).strip()
    return new if new else text.strip()


def _first_cut(text: str) -> int | None:
    candidates = []
    match = _SEPARATORS.search(_join_wrapped_on_wrote(text))
    if match:
        candidates.append(match.start())
    for found in _OUTLOOK_FROM.finditer(text):
        window = text[found.end() : found.end() + 400]
        if _OUTLOOK_NEXT.search(window):
            candidates.append(found.start())
            break
    return min(candidates) if candidates else None


def _join_wrapped_on_wrote(text: str) -> str:
    """Mail clients wrap a long "On <date>, <name> wrote:" over two lines; join them, keeping
    every offset before the join the same so the cut position stays valid."""
    return re.sub(
        r"^([ \t]*on \S[^\n]{0,200})\n(?=[^\n]{0,120}wrote:[ \t]*$)",
        r"\1 ",
        text,
        flags=re.IGNORECASE | re.MULTILINE,
    )
