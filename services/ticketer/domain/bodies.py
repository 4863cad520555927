"""Bodies: text from HTML, truncation, and stripping quoted reply text (the HTML sanitiser
lives in libs/common/text/safe_html.py: the console shows quarantined mail through it)."""

from __future__ import annotations

from libs.common.text.html import html_to_text
from libs.common.text.safe_html import sanitize_html
from services.ticketer.domain.quotes import html_quote_start
from services.ticketer.domain.replycut import opens_forward, reply_quote_start

__all__ = ["body_text", "reply_text", "sanitize_html", "strip_quoted", "truncate"]

#: How much of a quote container is read to tell a forward from a quote.
_FORWARD_PEEK = 4000


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


def strip_quoted(text: str, *, quote_follows: bool = False) -> str:
    """The new part of a reply: cut at the first quote header (quotequail's, or one of our
    rules': :func:`services.ticketer.domain.replycut.reply_quote_start`), drop ``>`` lines.

    Returns the text unchanged when nothing new would remain (a bare forward, say).
    """
    cut = reply_quote_start(text, quote_follows=quote_follows)
    head = text[:cut] if cut is not None else text
    kept = [line for line in head.splitlines() if not _quoted(line)]
    answers = _answers_between_quotes(text[cut:]) if cut is not None else []
    parts = ("\n".join(kept).strip(), "\n".join(answers).strip())
    new = "\n\n".join(part for part in parts if part)
    return new if new else text.strip()


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _answers_between_quotes(rest: str) -> list[str]:
    """The customer's lines among ``>``-quoted history (answers written inline, or below the
    quote by a bottom-poster): once the header's quote is ``>`` lines, every line that is not
    one is theirs. History quoted without ``>`` (Outlook's) has no such lines to tell."""
    lines = rest.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    start = next((n for n, line in enumerate(lines) if _quoted(line)), None)
    # The header takes at most three lines (a wrapped attribution) before its first > line.
    if first is None or start is None or start - first > 3:
        return []
    return [line for line in lines[start:] if not _quoted(line)]


def reply_text(text: str | None, html: str | None) -> str:
    """The new part of a reply: from its text part, else from its HTML cut at the first
    quote container (the text derived from HTML no longer shows where the quote began)."""
    if (text and text.strip()) or not html:
        return strip_quoted(text or "")
    cut = html_quote_start(html)
    # Gmail puts a forwarded mail in the same container as a quote: that one is kept.
    if cut is not None and not opens_forward(html_to_text(html[cut : cut + _FORWARD_PEEK])):
        new = strip_quoted(html_to_text(html[:cut]), quote_follows=True)
        if new:
            return new
    return strip_quoted(html_to_text(html))
