"""Display names we write into From, To, Cc, Bcc and Reply-To: the rule that keeps a name from
posing as an address (``"ceo@contoso.com <ceo@contoso.com>" <support@contoso.com>``).

Not part of the contract's validation: received mail carries such names all the time and must
still be readable. The sender refuses a job whose names break the rule
(``display_name_not_allowed``); the ticketer drops such a name from what it copies into a job.
"""

from __future__ import annotations

import unicodedata

from libs.common.contracts._base import check_header_value

#: What a mail client may read as address syntax once the name is shown: ``@``, angle brackets
#: (and their look-alikes NFKC does not fold), quotes and backslashes (which end or escape the
#: quoted name), and RFC 2047 encoded words (which some clients decode inside quotes).
_ADDRESS_SYNTAX = frozenset('@<>"\\\u2039\u203a\u27e8\u27e9\u3008\u3009\u276e\u276f\u1438\u1433')


def display_name_problem(name: str) -> str | None:
    """Why ``name`` may not be a display name we send, or ``None`` when it may."""
    try:
        check_header_value(name)
    except ValueError as exc:
        return str(exc)
    # NFKC folds the full-width and small forms (U+FF20, U+FE6B, U+FF1C …) into what they mimic.
    folded = unicodedata.normalize("NFKC", name)
    found = sorted({c for c in folded if c in _ADDRESS_SYNTAX})
    if found:
        shown = " ".join(repr(c) for c in found)
        return f"a display name may not contain {shown} (it could pose as an address)"
    if "=?" in folded:
        return "a display name may not contain '=?' (an encoded word could pose as an address)"
    return None


def safe_display_name(name: str) -> str:
    """``name`` when :func:`display_name_problem` finds nothing in it, else no name at all."""
    return name if display_name_problem(name) is None else ""
