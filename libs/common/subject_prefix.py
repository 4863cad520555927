"""Reply and forward prefixes of subjects ("Re:", "AW:", "回复:" …): the one list, and where
the prefixes of a subject end.

Used by the record token (placed after the prefixes), the acknowledgement's subject ("Re:"
once, whatever the customer's client wrote) and the out-of-office rules of the ticketer (a
prefix before a notice's own means a person answered it).
"""

from __future__ import annotations

import re

#: Reply and forward prefixes of the common mail programs and languages: English, German
#: (AW, WG, Wtr), French (Réf, TR), Spanish (RV), Italian (R, RIF, I), Portuguese (RES, ENC),
#: Dutch (Antw, Doorst), the Nordic ones (SV, VS, VB, VL, FS), Polish (Odp, PD), Turkish
#: (YNT, İLT), Hungarian (Vá, Tov), Croatian (Odg), Indonesian (Bls, Trs), Greek, Russian,
#: Chinese, Japanese and Korean.
REPLY_WORDS = (
    "re", "aw", "antw", "antwort", "sv", "svar", "vs", "r", "rif", "res", "ref", "réf", "rép",
    "odp", "odg", "ynt", "atb", "vá", "va", "bls", "tl", "wg", "wtr", "fw", "fwd", "tr", "rv",
    "enc", "doorst", "vl", "vb", "fs", "pd", "i", "\u0130lt", "ilt", "tov", "trs",
    "απ", "σχετ", "πρθ", "отв", "ответ", "пересл", "回复", "回覆", "答复", "转发", "轉寄", "轉發",
    "返信", "転送", "답장", "회신", "전달",
)  # fmt: skip
#: A reply count some clients add: ``Re[2]:``, ``Re(2):``, ``Re^2:``, ``Re*2:``.
COUNT = r"(?:\s*(?:\[\d+\]|\(\d+\)|\^\d+|\*\d+))?"
#: An ASCII or a full-width colon (CJK clients), spaces before it allowed (French "Re :").
COLON = r"\s*[:\uff1a]"

_WORDS = "|".join(sorted((re.escape(w) for w in REPLY_WORDS), key=len, reverse=True))
# A word only where a word starts: the "r" of "Fwd: Printer: jammed" is no prefix.
_PREFIX = re.compile(rf"\s*(?<!\w)(?:{_WORDS}){COUNT}{COLON}\s*", re.IGNORECASE)


def prefix_end(subject: str) -> int:
    """Where the stacked reply/forward prefixes opening ``subject`` end (0: none)."""
    end = 0
    while match := _PREFIX.match(subject, end):
        if match.end() == end:
            break
        end = match.end()
    return end


def without_prefixes(subject: str) -> str:
    """``subject`` without the reply/forward prefixes that open it: "Re: AW: Drucker" →
    "Drucker"."""
    return subject[prefix_end(subject) :].strip()
