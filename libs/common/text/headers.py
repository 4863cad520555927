"""Header values of received mail → text and (name, address) pairs, whatever the header holds.

Values arrive as the email package's ``compat32`` parsing leaves them: folded, RFC 2047
encoded words undecoded, raw 8-bit octets as lone surrogates. Encoded words are decoded with
any label (an unknown one by detection), 8-bit octets as UTF-8 or by detection
(:mod:`libs.common.text.charsets`). Used alike by the Graph simulator (as Exchange shows
mail), the Gmail adapter and the ticketer's own MIME parsing, so that one mail gives the same
subject and addresses whichever provider served it.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

from libs.common.text.charsets import decode_words, repair

_NEWLINES = re.compile(r"\r\n|\r|\n")
#: An address a mail program would take as one: an addr-spec (a quoted local part and a
#: domain literal allowed), or a single word such as ``MAILER-DAEMON``.
_PLAUSIBLE = re.compile(
    r'^(?:"[^"\r\n]*"|[^\s<>(),;:\\"\[\]@]+)(?:@(?:[^\s<>(),;:\\"\[\]@]+|\[[^\s\[\]\\]*\]))?$'
)
#: The first address-looking run in text no parser could split.
_FIND_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
#: A group with no members, as ``undisclosed-recipients:;``: nobody.
_EMPTY_GROUP = re.compile(r"^[^:<>@\"]*:\s*;?$")
#: Address headers are parsed on this much text: the parser is slow on huge input, and
#: no server accepts more recipients than fit in it.
ADDRESS_TEXT_LIMIT = 256 * 1024


def unfold(value: str) -> str:
    """RFC 5322 unfolding: every line break of a parsed header value starts a fold."""
    return _NEWLINES.sub("", value)


def header_text(raw: object, hint: str | None = None) -> str:
    """A header value as text: unfolded, 8-bit repaired, encoded words decoded."""
    return decode_words(repair(unfold(str(raw)), hint), hint).strip()


def split_addresses(raw: object, hint: str | None = None) -> list[tuple[str, str]]:
    """(display name, address) pairs of one address header; ``[]`` when it is absent or names
    nobody.

    Addresses are split before names are decoded (an encoded word may hold a comma or a
    quote). Entries without a plausible address are dropped when others are fine; a header
    no parser can split is one pair: its text as the name, the first address-looking text in
    it (or ``""``) as the address, so the mail is never without a sender.
    """
    if raw is None:
        return []
    text = repair(unfold(str(raw)), hint).strip()
    if not text or _EMPTY_GROUP.match(text):
        return []
    found = [
        (decode_words(name, hint).strip(), address.strip())
        for name, address in _split(text[:ADDRESS_TEXT_LIMIT])
        if _PLAUSIBLE.match(address.strip())
    ]
    if found:
        return found
    best = _FIND_ADDRESS.search(text[:ADDRESS_TEXT_LIMIT])
    return [(decode_words(text, hint), best[0] if best else "")]


def _split(text: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([text])
    except Exception:  # the address parser recurses on nested comments: salvage instead
        return []
