"""Building blocks shared by every contract: the base model, addresses, header values, limits."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from libs.common.msgid import canonical_message_id, split_message_ids

# Field limits are part of the public contract (and of the generated JSON Schemas).
MAX_HEADER_VALUE_CHARS = 998  # RFC 5322 line limit
MAX_SUBJECT_CHARS = MAX_HEADER_VALUE_CHARS
MAX_BODY_CHARS = 1_000_000  # per body part; longer inbound bodies are truncated with a flag
MAX_RECIPIENTS = 500  # Exchange's default recipient limit
MAX_INLINE_ATTACHMENTS_BYTES = 16 * 1024 * 1024  # decoded bytes of base64 attachments per job
MAX_ATTACHMENT_BYTES = 150 * 1024 * 1024  # Graph's upload-session ceiling
MAX_ATTACHMENTS = 250
MAX_ID_CHARS = 1000

# Deliberately plain: a local part without spaces or specials, a dotted domain. Written without
# look-arounds so that the same pattern is enforced here and published in the JSON Schemas.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uffff]{1,64}"
_LABEL = r"[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\-\u0080-\uffff]{0,61}[A-Za-z0-9\u0080-\uffff])?"
# An RFC 2047 encoded word as Python's email package finds one (email.header.ecre; its header
# parser is stricter): "=?" charset (a "*lang" part included) "?" B or Q "?" text "?=". The
# parser DECODES such a word, so "=?utf-8?q?a=0D=0ABcc:_x=40evil.example?=" would become a line
# break and a Bcc header. Text we write into a mail header may not hold one: mailpipe encodes.
ENCODED_WORD_PATTERN = r"=\?[^?]*\?[BbQq]\?.*\?="
# The one look-ahead: ECMA-262 (the JSON Schema dialect) and Python read it alike.
_NO_ENCODED_WORD = rf"(?!.*{ENCODED_WORD_PATTERN})"
ADDRESS_PATTERN = rf"^{_NO_ENCODED_WORD}{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$"
# The one rule for text that ends up in a mail header (subject, names, X- header values, file
# names, ids). Refused: every character some layer reads as a line break -- CR, LF, and what
# Python's str.splitlines() (and so the email package's header parser) also breaks at: VT, FF,
# FS, GS, RS, NEL, U+2028, U+2029 -- and what Graph (Exchange's XML 1.0 store) refuses: the
# other C0 controls, DEL and the C1 controls, lone surrogates, U+FFFE and U+FFFF. TAB stays: it
# is header whitespace in RFC 5322 and no layer breaks a line at it. See docs/publishing-jobs.md.
HEADER_FORBIDDEN_CLASS = r"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff"
HEADER_VALUE_PATTERN = rf"^[^{HEADER_FORBIDDEN_CLASS}]*$"
# What a job may put into a header we write: the rule above and no encoded word. (Received
# text keeps HEADER_VALUE_PATTERN: real mail carries encoded words, and nothing decodes them.)
SEND_HEADER_VALUE_PATTERN = rf"^{_NO_ENCODED_WORD}[^{HEADER_FORBIDDEN_CLASS}]*$"
EXTRA_HEADER_NAME_PATTERN = r"^[Xx]-[A-Za-z0-9-]{1,72}$"
_ADDRESS_RE = re.compile(ADDRESS_PATTERN)
_FORBIDDEN = re.compile(f"[{HEADER_FORBIDDEN_CLASS}]")
_FORBIDDEN_RUNS = re.compile(f"[{HEADER_FORBIDDEN_CLASS}]+")
_HEADER_NAME_RE = re.compile(EXTRA_HEADER_NAME_PATTERN)
# The header parser also reads a "?=" right after the B or Q as an escape when two hex digits
# follow: "=?utf-8?q?=0D=0ABcc:_x" is a word, up to the next "?=" or the value's end, and decodes
# to a line break. The validators refuse that form too. The published patterns of the v1
# contracts keep the first form only (a pattern may not change within a contract version), so
# there the schema is looser than the validator, never the other way round.
ESCAPE_OPENED_WORD_PATTERN = r"=\?[^?]*\?[BbQq]\?=[0-9A-Fa-f]{2}"
_ENCODED_WORD = re.compile(f"{ENCODED_WORD_PATTERN}|{ESCAPE_OPENED_WORD_PATTERN}", re.DOTALL)


def check_address(value: str) -> str:
    if _ENCODED_WORD.search(value):
        raise ValueError(f"not an email address: {value!r} holds an RFC 2047 encoded word (=?…?=)")
    if not _ADDRESS_RE.match(value) or ".." in value or value.startswith("."):
        raise ValueError(f"not an email address: {value!r}")
    return value


def check_header_value(value: str) -> str:
    """``value`` when it may go into a mail header; else a ``ValueError`` naming the character."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise ValueError(
            "header values must not contain line breaks (CR, LF, VT, FF, NEL, U+2028 …) or "
            f"control characters: found U+{ord(found.group()):04X} at position {found.start()}; "
            "replace it with a space"
        )
    return value


def check_send_header_value(value: str) -> str:
    """:func:`check_header_value`, and no RFC 2047 encoded word: for text a job puts into a
    header we write. The email package would decode the word (CR/LF included)."""
    check_header_value(value)
    found = _ENCODED_WORD.search(value)
    if found is not None:
        raise ValueError(
            f"header values must not contain an RFC 2047 encoded word (=?charset?Q|B?…?=): found "
            f"one at position {found.start()}; send the text itself, mailpipe encodes it"
        )
    return value


def clean_header_value(value: str) -> str:
    """``value`` with each run of characters :func:`check_header_value` refuses turned into one
    space, and, when it holds an encoded word, every ``=?`` broken into ``= ?`` (so nothing is
    left to decode, at any depth): for text copied from received mail into a header we write.
    The result always passes :func:`check_send_header_value`; clean text comes back as it was."""
    value = _FORBIDDEN_RUNS.sub(" ", value)
    if _ENCODED_WORD.search(value):
        # One pass suffices: "= ?" forms no new "=?", and no encoded word lacks one.
        value = value.replace("=?", "= ?")
    return value


def check_extra_header_name(value: str) -> str:
    if not _HEADER_NAME_RE.match(value):
        raise ValueError(f"only X- headers may be added (got {value!r})")
    return value


# The pattern publishes the rule in the JSON Schema; the validator gives a readable message.
EmailAddressStr = Annotated[
    str,
    AfterValidator(check_address),
    WithJsonSchema(
        {"type": "string", "format": "email", "maxLength": 320, "pattern": ADDRESS_PATTERN}
    ),
    Field(max_length=320),
]
HeaderStr = Annotated[
    str,
    AfterValidator(check_header_value),
    WithJsonSchema(
        {"type": "string", "maxLength": MAX_HEADER_VALUE_CHARS, "pattern": HEADER_VALUE_PATTERN}
    ),
    Field(max_length=MAX_HEADER_VALUE_CHARS),
]
SubjectStr = HeaderStr
# The same for what a job asks us to write (libs/common/contracts/outbound.py).
SendHeaderStr = Annotated[
    str,
    AfterValidator(check_send_header_value),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_HEADER_VALUE_CHARS,
            "pattern": SEND_HEADER_VALUE_PATTERN,
        }
    ),
    Field(max_length=MAX_HEADER_VALUE_CHARS),
]
SendIdStr = Annotated[
    str,
    AfterValidator(check_send_header_value),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_CHARS,
            "pattern": SEND_HEADER_VALUE_PATTERN,
        }
    ),
    Field(min_length=1, max_length=MAX_ID_CHARS),
]
IdStr = Annotated[
    str,
    AfterValidator(check_header_value),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_CHARS,
            "pattern": HEADER_VALUE_PATTERN,
        }
    ),
    Field(min_length=1, max_length=MAX_ID_CHARS),
]


def _message_id(value: object) -> object:
    """Every contract carries Message-IDs in the one canonical form (libs/common/msgid.py), so
    that a value a producer took from a mail can never fail a later contract's bounds."""
    if not isinstance(value, str):
        return value
    canonical = canonical_message_id(value)
    if canonical is None:
        raise ValueError("not a Message-ID: nothing is left of it once trimmed")
    return canonical


MessageIdStr = Annotated[
    str,
    BeforeValidator(_message_id),
    WithJsonSchema(
        {"type": "string", "maxLength": MAX_HEADER_VALUE_CHARS, "pattern": HEADER_VALUE_PATTERN}
    ),
    Field(max_length=MAX_HEADER_VALUE_CHARS),
]

MAX_REFERENCES = 200


def _message_ids(value: object) -> object:
    """A References list: each item may hold several ids (a header value as given); every
    id once, canonical, the thread's root and the newest kept when there are too many."""
    if not isinstance(value, list | tuple):
        return value
    ids: list[str] = []
    for item in value:
        if not isinstance(item, str):
            return value  # let the item's own validation say what is wrong
        ids += split_message_ids(item) or ([item] if item.strip() else [])
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


MessageIdList = Annotated[tuple[MessageIdStr, ...], BeforeValidator(_message_ids)]

#: Which mail provider a mailbox is served by (``microsoft`` today). An open token rather than
#: a closed list: a new provider is a new value, not a new contract version.
PROVIDER_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
ProviderStr = Annotated[str, Field(pattern=PROVIDER_PATTERN)]
#: The provider of every mailbox before contracts named one (the ``…v1`` contracts).
FIRST_PROVIDER = "microsoft"


ExtraHeaderName = Annotated[
    str,
    AfterValidator(check_extra_header_name),
    WithJsonSchema({"type": "string", "pattern": EXTRA_HEADER_NAME_PATTERN}),
]
BodyStr = Annotated[str, Field(max_length=MAX_BODY_CHARS)]
Sha256Str = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Model(BaseModel):
    """Frozen, strict about unknown fields: a typo in a payload is an error, not a silent drop."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Address(Model):
    """A mailbox address with an optional display name."""

    address: EmailAddressStr
    name: HeaderStr = ""


class BlobRef(Model):
    """A claim check: bytes live in the blob store under their sha256, never on the broker."""

    sha256: Sha256Str
    size: int = Field(ge=0)
