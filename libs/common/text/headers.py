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
#: An address-looking run in text no parser could split. It starts only where a run of
#: local-part characters starts: tried from inside a run too, a long run without a domain
#: after it ("aaa…@") costs time quadratic in its length.
_FIND_ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
)
#: A group with no members, as ``undisclosed-recipients:;``: nobody.
_EMPTY_GROUP = re.compile(r"^[^:<>@\"]*:\s*;?$")
#: What the entry splitter looks at: quotes (a backslash escapes inside them), comments,
#: brackets, and the separators.
_SPECIAL = re.compile(r'\\.|["()<>\[\],;:]')
#: A lone word standing as an address (``MAILER-DAEMON``), not the front of a name.
_SINGLE_WORD = re.compile(r"^[^\s<>(),;:\\\"\[\]@]+$")
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

    The header is cut into entries at the commas and semicolons outside quotes, comments and
    brackets (a group's name and ``;`` dropped), and each entry parsed alone, before names are
    decoded (an encoded word may hold a comma or a quote): garbage between addresses costs
    only itself. An entry that is only words, before one with an ``<address>``, is the front
    of that entry's name (``Müller, Jürgen <j@x>`` unquoted); an entry the parser cannot
    take apart keeps the address-looking texts in it. A header with no address at all is one
    pair, its text as the name and ``""`` as the address, so the mail keeps who sent it.
    """
    if raw is None:
        return []
    text = repair(unfold(str(raw)), hint).strip()
    if not text or _EMPTY_GROUP.match(text):
        return []
    pairs: list[tuple[str, str]] = []
    words: list[str] = []
    for entry in _entries(text[:ADDRESS_TEXT_LIMIT]):
        if "@" not in entry and "<" not in entry:
            words.append(entry)  # the front of the next entry's unquoted name, or a word
            continue
        found = _parse_entry(entry)
        if words and found and "<" in entry:
            name, address = found[0]
            found[0] = (", ".join([*words, name] if name else words), address)
        else:
            pairs += _lone_words(words)
        words = []
        pairs += found
    pairs += _lone_words(words)
    if pairs:
        return [(decode_words(name, hint).strip(), address) for name, address in pairs]
    return [(decode_words(text, hint), "")]


def _lone_words(words: list[str]) -> list[tuple[str, str]]:
    """Entries without ``@`` that name no one's name: a lone word (``MAILER-DAEMON``) is an
    address of its own, anything else is garbage."""
    return [("", word) for word in words if _SINGLE_WORD.match(word)]


def _entries(text: str) -> list[str]:
    """The entries of an address list: split at ``,`` and ``;`` outside quotes, comments,
    ``<…>`` and ``[…]``; a group's ``name:`` dropped."""
    entries: list[str] = []
    start = depth = 0
    quoted = False
    for match in _SPECIAL.finditer(text):
        char, at = match.group(0), match.start()
        if quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char in "(<[":
            depth += 1
        elif char in ")>]":
            depth = max(0, depth - 1)
        elif depth == 0 and char == ":":
            start = at + 1  # ``Team: a@x, b@x;`` — the group's name is no address
        elif depth == 0 and char in ",;":
            entries.append(text[start:at])
            start = at + 1
    entries.append(text[start:])
    return [e.strip() for e in entries if e.strip()]


def _parse_entry(entry: str) -> list[tuple[str, str]]:
    """One entry's (name, address) pairs: as the email package parses it when it gives a
    plausible address (or a name with the null address ``<>``), else every address-looking
    text in it."""
    try:
        parsed = getaddresses([entry])
    except Exception:  # the parser recurses on nested comments: salvage instead
        parsed = []
    pairs = [
        (name, address.strip())
        for name, address in parsed
        # ``MAILER-DAEMON <>``: the null address, but the name still says who sent it
        if _PLAUSIBLE.match(address) or (name.strip() and not address.strip() and "<>" in entry)
    ]
    return pairs or [("", address) for address in _FIND_ADDRESS.findall(entry)]
