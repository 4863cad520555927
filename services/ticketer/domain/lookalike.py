# ruff: noqa: RUF001, RUF002 - a table of look-alike letters is made of them
"""Is a mail domain ours, or made to look like ours? (docs/ticketer.md, "Auto-acknowledgement")

A domain is compared with each of our own domains through a *skeleton*: the form two domains
share when a reader could not tell them apart. It is built from

1. IDNA: ``xn--`` labels are decoded from punycode, so ``xn--cntoso-wqf.com`` is read as the
   ``cоntoso.com`` (Cyrillic о) it displays as;
2. NFKC and casefolding (fullwidth and styled letters, case), then accents dropped (NFKD
   without combining marks: ``cóntoso`` → ``contoso``);
3. :data:`HOMOGLYPHS`, a small table of the letters attackers use for Latin ones: Cyrillic and
   Greek look-alikes (``о`` → ``o``, ``а`` → ``a``, ``ν`` → ``v`` …), a few Latin variants
   (``ı`` → ``i``, ``ł`` → ``l``), digits (``0`` → ``o``, ``1`` → ``l``), and the letter pairs that
   read as one letter (``rn`` → ``m``, ``vv`` → ``w``, ``cl`` → ``d``).

This is the idea of the Unicode confusables skeleton (UTS #39) cut down to what a domain name
can hold. Edit distance alone sees ``cоntoso.com`` (one homoglyph) no differently from
``cxntoso.com``, and ``c0nt0s0.com`` as three edits away; it is kept only for one slip of the
keyboard on the skeletons of longer domains (``contosso.com``, ``cotnoso.com``, ``contoso.co``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "є": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r", "с": "c", "ѕ": "s",
    "т": "t", "у": "y", "ү": "y", "х": "x", "ԁ": "d", "ԝ": "w", "ь": "b", "ɡ": "g", "п": "n",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "μ": "u",
    # Latin variants without a decomposition
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ƅ": "b", "ɑ": "a", "ɩ": "i",
    # digits that pass for letters
    "0": "o", "1": "l", "3": "e", "5": "s",
}  # fmt: skip
#: Letter pairs that read as one letter in most fonts.
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_TOKEN_SPLIT = re.compile(r"[.\-_]+")
#: Shorter names than this are left to the exact and token rules: too many false alarms.
_MIN_NAME = 4
#: One slip of the keyboard makes a lookalike of a domain this long or longer.
_MIN_TYPO = 8


def skeleton(domain: str) -> str:
    """The form a domain shares with every domain that reads the same."""
    labels = [_unpunycode(label) for label in domain.strip().rstrip(".").split(".")]
    text = unicodedata.normalize("NFKC", ".".join(labels)).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = "".join(HOMOGLYPHS.get(c, c) for c in text)
    for pair, letter in _PAIRS:
        text = text.replace(pair, letter)
    return text


def resemblance(domain: str, own: str) -> str | None:
    """How ``domain`` relates to our domain ``own``: ``own_domain`` (the same, or a subdomain),
    ``lookalike`` (one that reads as ours or carries ours inside it), or ``None``.

    Lookalikes: a homoglyph spelling (``cоntoso.com``, ``c0ntoso.com``, ``rnicrosoft.com``);
    ours followed by more labels or glued with hyphens (``contoso.com.evil.org``,
    ``contoso-com.evil.org``, ``contosocom.net``); our name spelled with homoglyphs under any
    other suffix (``cоntoso.net``). ``contoso.net`` itself is not one: a company of that name
    there is as likely as an impostor, and nothing in the name tells them apart.
    """
    plain, ours = _plain(domain), _plain(own)
    if not plain or not ours:
        return None
    if plain == ours or plain.endswith("." + ours):
        return "own_domain"
    seen, own_skel = skeleton(plain), skeleton(ours)
    for form in (seen, seen.replace("-", "")):  # "con-toso.com" reads as ours too
        if form == own_skel or form.endswith("." + own_skel):
            return "lookalike"
    tokens, own_tokens = _tokens(seen), _tokens(own_skel)
    if _contains(tokens, own_tokens) or "".join(own_tokens) in tokens:
        return "lookalike"
    raw_tokens = _tokens(plain)
    names = [t for t in own_tokens[:-1] if len(t) >= _MIN_NAME]
    if any(name in tokens and name not in raw_tokens for name in names):
        return "lookalike"
    if len(own_skel) >= _MIN_TYPO and _one_edit_apart(seen, own_skel):
        return "lookalike"  # contosso.com, cotnoso.com, contoso.co: one slip of the keyboard
    return None


def closest(domain: str, owns: Iterable[str]) -> tuple[str, str] | None:
    """(relation, own domain) for the first of ``owns`` that ``domain`` is or resembles."""
    for own in owns:
        relation = resemblance(domain, own)
        if relation is not None:
            return relation, own
    return None


def _plain(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


def _unpunycode(label: str) -> str:
    if not label.lower().startswith("xn--"):
        return label
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label


def _tokens(domain: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(domain) if t]


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2]
    return a[i + 1 :] == b[i + 1 :] or (swapped and a[i + 2 :] == b[i + 2 :])


def _contains(tokens: list[str], part: list[str]) -> bool:
    """``part`` appears in ``tokens`` as a contiguous run."""
    size = len(part)
    return size > 0 and any(tokens[i : i + size] == part for i in range(len(tokens) - size + 1))
