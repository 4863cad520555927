# ruff: noqa: RUF001, RUF002 - a table of look-alike letters is made of them
"""Is a mail domain ours, or made to look like ours? (docs/ticketer.md, "Auto-acknowledgement")

Every domain is first read as a mail system reads it (:func:`mail_domain`): the UTS #46
mapping of IDNA, so every label separator is a dot (``。`` ``．`` ``｡``) and every
default-ignorable character (zero-width spaces and joiners, the soft hyphen, the word joiner,
the byte-order mark, bidi controls, variation selectors …) is nothing. ``contoso.com。evil.org``
and ``contoso.com\u200b.evil.org`` are delivered to ``contoso.com.evil.org``, so that is the
domain judged. Only then are labels split and compared.

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

Our registered name as a whole word of another domain (``contoso-support.com``,
``support-contoso.com``, ``contoso.evil.org``) is a lookalike; the same name registered under
another suffix (``contoso.net``) or glued into a longer word (``contosohelp.com``) is not. A
false positive costs a real customer an acknowledgement, a false negative sends our mail to an
impostor; docs/ticketer.md gives the reasons for where the line is drawn.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

_uts46_remap: Callable[..., str] | None
try:  # a dependency of httpx, so always there in practice; the mapping below works without it
    from idna import uts46_remap as _uts46_remap
except ImportError:  # pragma: no cover - the fallback is NFKC, the dots and the ignorables
    _uts46_remap = None

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
#: Our name as a whole word of another domain counts from this length on ("hp" does not).
_MIN_WORD = 3

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that display
#: as nothing. UTS #46 drops most of them; the rest (ZWNJ, ZWJ, bidi controls, tag characters)
#: it rejects, which a lenient mail system may not do, so they are dropped here too.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
#: The label separators of IDNA (RFC 3490 section 3.1, UTS #46): all read as a dot.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
#: Second-level labels under which names are registered (``co.uk``, ``com.au``, ``or.jp`` …),
#: only to find which label of a domain is its name (:func:`_name_index`).
_SECOND_LEVEL = frozenset({
    "ac", "co", "com", "edu", "gob", "gouv", "gov", "govt", "gv", "lg", "ltd", "me", "mil", "ne",
    "net", "nic", "nom", "or", "org", "plc", "sch",
})  # fmt: skip


def strip_ignorable(text: str) -> str:
    """``text`` without the characters that display as nothing (zero-width, soft hyphen …)."""
    return _IGNORABLE.sub("", text)


def mail_domain(domain: str) -> str:
    """The domain a mail system delivers ``domain`` to: UTS #46 mapping (every IDNA dot a dot,
    default-ignorable characters removed), NFKC, casefolded, without a trailing dot.

    What reads as a dot or as nothing must be a dot or nothing *before* labels are split and
    compared, or ``contoso.com。evil.org`` passes as one label ``com。evil``.
    """
    text = "".join(c if c.isascii() else _remap(c) for c in strip_ignorable(domain))
    text = unicodedata.normalize("NFKC", text).translate(_DOTS).casefold()
    return strip_ignorable(text).strip().rstrip(".")


def _remap(char: str) -> str:
    """One character through UTS #46; one it disallows is kept, for the skeleton to judge."""
    if _uts46_remap is None:
        return char
    try:
        return _uts46_remap(char, std3_rules=False)
    except (UnicodeError, ValueError):
        return char


def skeleton(domain: str) -> str:
    """The form a domain shares with every domain that reads the same."""
    labels = [_unpunycode(label) for label in mail_domain(domain).split(".")]
    # A punycode label may decode to a dot variant or an invisible character: map again.
    text = mail_domain(".".join(labels))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = "".join(HOMOGLYPHS.get(c, c) for c in text)
    for pair, letter in _PAIRS:
        text = text.replace(pair, letter)
    return text


def resemblance(domain: str, own: str) -> str | None:
    """How ``domain`` relates to our domain ``own``: ``own_domain`` (the same, or a subdomain),
    ``lookalike`` (one that reads as ours or carries ours inside it), or ``None``.

    Both are read as mail systems read them first (:func:`mail_domain`). ``own_domain`` is ours
    as written (any case, a trailing dot); a domain that only *becomes* ours through that
    reading (``contoso.com\u200b``, ``ｃｏｎｔｏｓｏ.com``, ``contoso。com``) is written to pass
    for something else, and is a ``lookalike``.

    Lookalikes: a homoglyph spelling (``cоntoso.com``, ``c0ntoso.com``, ``rnicrosoft.com``);
    ours followed by more labels or glued with hyphens (``contoso.com.evil.org``,
    ``contoso-com.evil.org``, ``contosocom.net``); our name as a whole word anywhere but as the
    name of a domain of its own (``contoso-support.com``, ``support-contoso.com``,
    ``contoso.evil.org``, :func:`_name_as_word`); our name spelled with homoglyphs under any
    other suffix (``cоntoso.net``). ``contoso.net`` itself is not one: a company of that name
    there is as likely as an impostor, and nothing in the name tells them apart. Nor is our name
    glued into another word (``notcontoso.com``, ``contosoltd.com``): that is another word.
    """
    literal, ours = _literal(domain), _literal(own)
    if literal and ours and (literal == ours or literal.endswith("." + ours)):
        return "own_domain"
    plain, ours = mail_domain(domain), mail_domain(own)
    if not plain or not ours:
        return None
    if plain == ours or plain.endswith("." + ours) or _reads_as_ours(plain, ours):
        return "lookalike"
    return None


def _reads_as_ours(plain: str, ours: str) -> bool:
    """The lookalike rules of :func:`resemblance` on the skeletons of ``plain`` and ``ours``,
    both already read as mail systems read them (:func:`mail_domain`)."""
    seen, own_skel = skeleton(plain), skeleton(ours)
    for form in (seen, seen.replace("-", "")):  # "con-toso.com" reads as ours too
        if form == own_skel or form.endswith("." + own_skel):
            return True
    tokens, own_tokens = _tokens(seen), _tokens(own_skel)
    if _contains(tokens, own_tokens) or "".join(own_tokens) in tokens:
        return True
    if _name_as_word(seen, own_skel):
        return True
    raw_tokens = _tokens(plain)
    names = [t for t in own_tokens[:-1] if len(t) >= _MIN_NAME]
    if any(name in tokens and name not in raw_tokens for name in names):
        return True
    # contosso.com, cotnoso.com, contoso.co: one slip of the keyboard
    return len(own_skel) >= _MIN_TYPO and _one_edit_apart(seen, own_skel)


def closest(domain: str, owns: Iterable[str]) -> tuple[str, str] | None:
    """(relation, own domain) for the first of ``owns`` that ``domain`` is or resembles."""
    for own in owns:
        relation = resemblance(domain, own)
        if relation is not None:
            return relation, own
    return None


def _literal(domain: str) -> str:
    return domain.strip().rstrip(".").lower()


def _name_as_word(seen: str, own_skel: str) -> bool:
    """Our registered name is a whole word of the skeleton ``seen`` (a label, or a part of one
    between hyphens), other than as the registered name of ``seen`` itself.

    ``contoso-support.com``, ``support-contoso.com``, ``my.contoso-help.de``,
    ``contoso.evil.org``: the name as readers recognise it, with a qualifier or under
    someone else's domain, which is how impostors dress. ``contoso.net`` and ``mail.contoso.co.uk``
    are that name registered elsewhere and are left alone (see :func:`resemblance`).
    """
    own_labels = own_skel.split(".")
    name = _tokens(own_labels[_name_index(own_labels)])
    if len("".join(name)) < _MIN_WORD:
        return False
    labels = seen.split(".")
    registered = _name_index(labels)
    for index, label in enumerate(labels):
        words = _tokens(label)
        if _contains(words, name) and not (index == registered and words == name):
            return True
    return False


def _name_index(labels: list[str]) -> int:
    """Which label is a domain's registered name: the one before its public suffix.

    Without the Public Suffix List: the top-level label, or a common second-level label under a
    two-letter country code (``co.uk``, ``com.au``, ``or.jp``). Under an unlisted second level
    (``contoso.k12.ca.us``) the name is taken to be a subdomain, so the guess errs towards
    refusing an acknowledgement. The one way it errs the other way needs an impostor to own a
    domain such as ``net.xy`` under a country code and to send from ``contoso.net.xy``.
    """
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return len(labels) - 3
    return max(len(labels) - 2, 0)


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
