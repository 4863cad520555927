"""Header values of received mail → Graph's text and recipients, whatever the header holds.

The text and the (name, address) pairs come from :mod:`libs.common.text.headers`, shared with
the Gmail adapter and the ticketer; an address header that is no list of addresses is served
the way Graph serves one: its text as the name and the address found in it, or an empty one.
"""

from __future__ import annotations

from typing import Any

from libs.common.text.headers import ADDRESS_TEXT_LIMIT, header_text, split_addresses, unfold

__all__ = ["ADDRESS_TEXT_LIMIT", "header_text", "recipient", "recipients", "unfold"]


def recipient(name: str, address: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


def recipients(raw: object, hint: str | None = None) -> list[dict[str, Any]]:
    """Graph recipients of one address header; ``[]`` when it is absent or names nobody."""
    found = split_addresses(raw, hint)
    if len(found) == 1 and not found[0][1]:  # nothing parsed: the text is the name, as given
        return [{"emailAddress": {"name": found[0][0], "address": ""}}]
    return [recipient(name, address) for name, address in found]
