"""Header values of received mail → Graph's text and recipients, whatever the header holds.

Values arrive as the email package leaves them under ``compat32``: folded, RFC 2047 encoded
words undecoded, raw 8-bit octets as lone surrogates. Encoded words are decoded here with
any label (an unknown one by detection), 8-bit octets as UTF-8 or by detection, and an
address header that is no list of addresses is served the way Graph serves one: its text
as the name and the address found in it, or an empty one.
"""

from __future__ import annotations

import re
from email.utils import getaddresses
from typing import Any

from libs.common.text.charsets import decode_words, repair

_NEWLINES = re.compile(r"\r\n|\r|\n")
#: An address Graph would serve as one: an addr-spec (a quoted local part and a domain
#: literal allowed), or a single word such as ``MAILER-DAEMON``.
_PLAUSIBLE = re.compile(
    r'^(?:"[^"\r\n]*"|[^\s<>(),;:\\"\[\]@]+)(?:@(?:[^\s<>(),;:\\"\[\]@]+|\[[^\s\[\]\\]*\]))?$'
)
#: The first address-looking run in text no parser could split.
_FIND_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
#: A group with no members, as ``undisclosed-recipients:;``; Graph lists nobody.
_EMPTY_GROUP = re.compile(r"^[^:<>@\"]*:\s*;?$")
#: Address headers are parsed on this much text: the parser is slow on huge input, and
#: Exchange accepts far fewer recipients than fit in it.
ADDRESS_TEXT_LIMIT = 256 * 1024


def unfold(value: str) -> str:
    """RFC 5322 unfolding: every line break of a parsed header value starts a fold."""
    return _NEWLINES.sub("", value)


def header_text(raw: object, hint: str | None = None) -> str:
    """A header value as Graph shows it: unfolded, 8-bit repaired, encoded words decoded."""
    return decode_words(repair(unfold(str(raw)), hint), hint).strip()


def recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def recipients(raw: object, hint: str | None = None) -> list[dict[str, Any]]:
    """Graph recipients of one address header; ``[]`` when it is absent or names nobody."""
    if raw is None:
        return []
    text = repair(unfold(str(raw)), hint).strip()
    if not text or _EMPTY_GROUP.match(text):
        return []
    found = [
        recipient(decode_words(name, hint).strip(), address.strip())
        for name, address in _split(text[:ADDRESS_TEXT_LIMIT])
        if _PLAUSIBLE.match(address.strip())
    ]
    if found:
        return found
    best = _FIND_ADDRESS.search(text[:ADDRESS_TEXT_LIMIT])
    return [
        {"emailAddress": {"name": decode_words(text, hint), "address": best[0] if best else ""}}
    ]


def _split(text: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([text])
    except Exception:  # the address parser recurses on nested comments; Graph still serves
        return []
