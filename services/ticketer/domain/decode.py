"""Header values as the ticketer reads them: unfolded into one line, raw 8-bit octets and
RFC 2047 encoded words decoded (:mod:`libs.common.text.charsets`); never raises."""

from __future__ import annotations

import re

from libs.common.text.charsets import decode_words, repair

_FOLD = re.compile(r"\r?\n[ \t]*")


def unfold(value: str) -> str:
    """One line: each fold and the whitespace after it become one space."""
    return _FOLD.sub(" ", value).strip()


def decode_header_value(value: str, hint: str | None = None) -> str:
    """Unfold, repair 8-bit octets and decode encoded words; ``hint`` is the charset the mail
    declares for its text (:func:`libs.common.text.charsets.repair`)."""
    return decode_words(unfold(repair(value, hint)), hint)
