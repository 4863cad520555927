"""The one rule for header-bound text (libs/common/contracts/_base.py) and the display-name rule:
what passes builds a mail header with Python's email package, in one line, and reads back the
same; what the cleaner returns always passes."""

from __future__ import annotations

import re
from email import message_from_bytes
from email import policy as email_policy
from email.headerregistry import Address as MimeAddress
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.common.contracts import OutboundEmail
from libs.common.contracts._base import (
    HEADER_VALUE_PATTERN,
    check_header_value,
    clean_header_value,
)
from libs.common.contracts.names import display_name_problem, safe_display_name

#: Every character some layer breaks a line at, and the controls Graph refuses.
BREAKERS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
CONTROLS = "\x00\x01\x08\x0e\x1f\x7f\x80\x9f\ufffe\uffff"

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200) | st.text(
    alphabet=st.sampled_from(f"ab c\t{BREAKERS}{CONTROLS}é€\u200b"), max_size=60
)


def _passes(value: str) -> bool:
    try:
        check_header_value(value)
    except ValueError:
        return False
    return True


def _build(subject: str, name: str = "") -> bytes:
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = MimeAddress(display_name=name, addr_spec="support@contoso.com")
    msg["To"] = "customer@example.com"
    msg["Subject"] = subject
    msg["X-Custom"] = subject
    msg.set_content("body")
    return msg.as_bytes()


@pytest.mark.parametrize("char", list(BREAKERS + CONTROLS))
def test_every_line_breaker_and_control_is_refused(char: str) -> None:
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        check_header_value(f"hello{char}world")
    assert not re.fullmatch(HEADER_VALUE_PATTERN, f"hello{char}world")


def test_tab_and_ordinary_unicode_pass() -> None:
    for value in ("a\tb", "Grüße \u2013 你好 🎉", "", "Re: [#12] order"):
        assert check_header_value(value) == value
        assert re.fullmatch(HEADER_VALUE_PATTERN, value)


@settings(max_examples=300, deadline=None)
@given(_text)
def test_the_published_pattern_is_the_rule(value: str) -> None:
    # fullmatch: ECMA-262 `$` does not match before a final newline, Python's does.
    assert bool(re.fullmatch(HEADER_VALUE_PATTERN, value)) == _passes(value)


@settings(max_examples=300, deadline=None)
@given(_text)
def test_what_passes_builds_one_header_line_that_reads_back(value: str) -> None:
    if not _passes(value):
        return
    raw = _build(value)
    parsed = message_from_bytes(raw, policy=email_policy.default)
    # No header was injected or split, and the value survives the round trip.
    assert [k.lower() for k in parsed] == [
        "from",
        "to",
        "subject",
        "x-custom",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
    ]
    for header in ("Subject", "X-Custom"):
        got = str(parsed[header])
        assert not any(c in got for c in BREAKERS)
        assert " ".join(got.split()) == " ".join(value.split())


@settings(max_examples=300, deadline=None)
@given(_text)
def test_the_cleaner_always_passes_and_keeps_clean_text(value: str) -> None:
    cleaned = clean_header_value(value)
    assert _passes(cleaned)
    if _passes(value):
        assert cleaned == value
    _build(cleaned)


@settings(max_examples=200, deadline=None)
@given(_text)
def test_a_safe_display_name_builds_a_from_without_a_second_address(name: str) -> None:
    kept = safe_display_name(clean_header_value(name))
    parsed = message_from_bytes(_build("s", kept), policy=email_policy.default)
    addresses = parsed["From"].addresses
    assert [a.addr_spec for a in addresses] == ["support@contoso.com"]
    assert "@" not in addresses[0].display_name


@pytest.mark.parametrize(
    "name",
    [
        "ceo@contoso.com <ceo@contoso.com>",
        "ceo@contoso.com",
        "CEO <x>",
        'Alice" <ceo@contoso.com',
        "back\\slash",
        "ceo\uff20contoso.com",  # full-width @
        "ceo﹫contoso.com",  # small @
        "CEO \uff1cceo\uff1e",  # full-width angle brackets
        "=?utf-8?Q?ceo=40contoso.com?=",
        "a\x0bb",
    ],
)
def test_names_that_could_pose_as_an_address_are_refused(name: str) -> None:
    assert display_name_problem(name) is not None
    assert safe_display_name(name) == ""


@pytest.mark.parametrize("name", ["Alice Example", "O'Brien, Seán", "Support (Contoso)", ""])
def test_ordinary_names_are_kept(name: str) -> None:
    assert display_name_problem(name) is None
    assert safe_display_name(name) == name


@pytest.mark.parametrize(
    "field", ["subject", "from_name", "job_id", "headers", "to_name", "attachment_name"]
)
def test_the_job_contract_refuses_a_vertical_tab_in_every_header_field(field: str) -> None:
    with pytest.raises(ValidationError, match="U\\+000B"):
        OutboundEmail.model_validate(_job_with(field, "a\x0bb"))


def _job_with(field: str, bad: str) -> dict[str, object]:
    """A valid job whose ``field`` (``headers``, ``to_name``, ``to_address``,
    ``attachment_<key>`` or a plain field name) holds ``bad``."""
    job: dict[str, object] = {
        "job_id": "j-1",
        "mailbox": "support@contoso.com",
        "to": [{"address": "c@example.com"}],
        "subject": "hello",
        "text": "body",
    }
    attachment = {"name": "a.txt", "content_base64": "aGk="}
    if field == "headers":
        job["headers"] = {"X-Ref": bad}
    elif field == "to_name":
        job["to"] = [{"address": "c@example.com", "name": bad}]
    elif field == "to_address":
        job["to"] = [{"address": f"{bad}@example.org"}]
    elif field.startswith("attachment_"):
        job["attachments"] = [{**attachment, field.removeprefix("attachment_"): bad}]
    else:
        job[field] = bad
    return job


@pytest.mark.parametrize("char", ["\r", "\x0b", "\u2028", "\x85"])
def test_a_record_token_format_follows_the_header_rule(char: str) -> None:
    from libs.common.errors import ConfigError
    from libs.common.record_token import check_token_format

    with pytest.raises(ConfigError, match="line breaks"):
        check_token_format(f"[#{{id}}{char}]")


@settings(max_examples=150, deadline=None)
@given(subject=_text, name=_text, value=_text, filename=_text)
def test_the_sender_builds_any_job_the_rules_let_through(
    subject: str, name: str, value: str, filename: str
) -> None:
    """Through the sender's own MIME builder (its folding policy included): every header the
    job sets comes back as one header, with the value it had."""
    from services.sender.domain.attachments import AttachmentBytes
    from services.sender.domain.mime import build_mime
    from services.sender.domain.policy import SendDecision

    subject, value = clean_header_value(subject), clean_header_value(value)
    filename = clean_header_value(filename).strip() or "file.txt"
    name = safe_display_name(clean_header_value(name))
    job = OutboundEmail.model_validate(
        {
            "job_id": "j-1",
            "mailbox": "support@contoso.com",
            "from_name": name,
            "to": [{"address": "c@example.com", "name": name}],
            "subject": subject,
            "text": "body",
            "headers": {"X-Ref": value},
            "record_id": 7,
        }
    )
    decision = SendDecision("support@contoso.com", "support@contoso.com", name)
    built = build_mime(
        job,
        decision,
        message_id_domain="mailpipe.contoso.com",
        attachments=[AttachmentBytes(filename, b"data")],
        thread=None,
    )
    parsed = message_from_bytes(built.mime, policy=email_policy.default)
    for header in ("From", "To", "Subject", "X-Ref", "Message-ID", "X-Mailpipe-Job-Id"):
        assert len(parsed.get_all(header) or []) == 1, header
    assert [a.addr_spec for a in parsed["From"].addresses] == ["support@contoso.com"]
    assert [a.addr_spec for a in parsed["To"].addresses] == ["c@example.com"]
    # White space is compared away: the email package folds a run of non-ASCII words into
    # separate encoded words, and RFC 2047 drops the space between two encoded words, so
    # "𐀀 ¡" can read back as "𐀀¡" (a known loss of spacing, never of a character or header).
    assert _chars(str(parsed["X-Ref"])) == _chars(value)
    assert _chars(str(parsed["Subject"])) == _chars(built.subject)
    (part,) = [p for p in parsed.walk() if p.get_filename() is not None]
    assert _chars(str(part.get_filename())) == _chars(filename)


def _chars(text: str) -> str:
    return "".join(text.split())


# --- RFC 2047 encoded words: the email package decodes them, CR/LF included -----------------

from email._header_value_parser import get_unstructured  # noqa: E402
from email.header import decode_header  # noqa: E402

from libs.common.contracts._base import (  # noqa: E402
    ADDRESS_PATTERN,
    ESCAPE_OPENED_WORD_PATTERN,
    SEND_HEADER_VALUE_PATTERN,
    check_address,
    check_send_header_value,
)

#: Encoded words of every shape the email package decodes (and some it does not).
ENCODED_WORDS = [
    "=?utf-8?q?hello=0D=0ABcc:_attacker=40evil.example?=",
    "=?UTF-8?Q?a=0D=0AFrom:_ceo=40contoso.com?=",
    "=?utf-8?b?YQ0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=",
    "=?utf-8*en?q?a=0D=0A=0D=0Abody?=",
    "=?iso-8859-1?Q?caf=E9?=",
    "=??q?x?=",
    "=?utf-8?q?a b?=",
    "word=?utf-8?q?x?=word",
]

_word = st.builds(
    lambda cs, enc, text: f"=?{cs}?{enc}?{text}?=",
    st.sampled_from(["utf-8", "UTF-8", "us-ascii", "utf-8*en", "", "x"]),
    st.sampled_from("qQbB"),
    st.sampled_from(["", "a", "=0D=0ABcc:_x=40evil.example", "YQ0KQg==", "a_b", "=3D=3F"]),
)
#: Words the header parser opens with an escape ("?=" and two hex digits after the B/Q).
_escape_word = st.builds(
    lambda cs, enc, text: f"=?{cs}?{enc}?={text}",
    st.sampled_from(["utf-8", "", "="]),
    st.sampled_from("qQbB"),
    st.sampled_from(["0D=0ABcc:_x", "3D", "0a", "DQpC"]),
)
#: Text with encoded words (and their near misses) among ordinary characters.
_ew_text = st.lists(
    _word
    | _escape_word
    | st.sampled_from(["=?", "?=", "?q?", "=", "?", " ", "a", "é", "=3D", "\r\n"]),
    max_size=12,
).map("".join)


def _send_passes(value: str) -> bool:
    try:
        check_send_header_value(value)
    except ValueError:
        return False
    return True


def _decodes_something(value: str) -> bool:
    """Whether either of the email package's decoders finds an encoded word in ``value``."""
    parsed = get_unstructured(value)
    if any(getattr(t, "token_type", "") == "encoded-word" for t in parsed):
        return True
    return str(parsed) != value or any(charset is not None for _, charset in decode_header(value))


@pytest.mark.parametrize("word", ENCODED_WORDS)
def test_an_encoded_word_is_refused_in_what_a_job_writes(word: str) -> None:
    with pytest.raises(ValueError, match="encoded word"):
        check_send_header_value(f"Subject text {word}")
    assert not re.fullmatch(SEND_HEADER_VALUE_PATTERN, f"Subject text {word}")
    # Received text keeps the character rule only: real mail carries such words.
    assert check_header_value(word.replace("\r\n", "")) == word.replace("\r\n", "")


@pytest.mark.parametrize("value", ["is 1+1=? yes", "a ?= b =? c", "x=?y", "=?", "?q?", "a=3Db"])
def test_text_that_merely_looks_like_an_encoded_word_passes(value: str) -> None:
    assert check_send_header_value(value) == value
    assert re.fullmatch(SEND_HEADER_VALUE_PATTERN, value)


@pytest.mark.parametrize(
    "address", ["=?utf-8?q?a=0D=0ABcc=3A_x=40evil.example?=@example.org", "=?x?b?YQ==?=@a.org"]
)
def test_an_address_holding_an_encoded_word_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="encoded word"):
        check_address(address)
    assert not re.fullmatch(ADDRESS_PATTERN, address)


@settings(max_examples=400, deadline=None)
@given(_ew_text | _text)
def test_the_published_send_pattern_is_the_rule_and_nothing_passing_decodes(value: str) -> None:
    published = bool(re.fullmatch(SEND_HEADER_VALUE_PATTERN, value))
    if _send_passes(value):
        assert published
        assert not _decodes_something(value)
    else:
        # Stricter than the published v1 pattern only by the escape-opened word.
        assert not published or re.search(ESCAPE_OPENED_WORD_PATTERN, value)


@pytest.mark.parametrize(
    "value",
    [
        "a =?utf-8?q?=0D=0ABcc:_x=40evil.example",
        "=?=?q?=3D",
        "=?x?Q?=0a",
        "=?utf-8?b?=0D",
        "Re: =?utf-8?q?=0D=0AFrom:_ceo=40contoso.com more?= text",
    ],
)
def test_an_escape_opened_encoded_word_is_refused_and_cleaned(value: str) -> None:
    # The header parser takes "?=" + two hex digits after the B/Q for an escape, not the end.
    assert _decodes_something(value)
    with pytest.raises(ValueError, match="encoded word"):
        check_send_header_value(value)
    cleaned = clean_header_value(value)
    assert _send_passes(cleaned) and not _decodes_something(cleaned)
    with pytest.raises(ValueError, match="encoded word"):
        check_address(value.replace(" ", "_") + "@example.org")


@settings(max_examples=400, deadline=None)
@given(_ew_text | _text)
def test_the_cleaner_leaves_nothing_to_decode_at_any_depth(value: str) -> None:
    cleaned = clean_header_value(value)
    assert _send_passes(cleaned)
    assert not _decodes_something(cleaned)
    assert clean_header_value(cleaned) == cleaned
    if _send_passes(value):
        assert cleaned == value


def test_a_doubly_encoded_subject_is_cleaned_to_nothing_decodable() -> None:
    # What Graph hands over after decoding one level of a customer's doubly-encoded subject.
    once = "=?utf-8?q?printer=0D=0ABcc:_victim=40evil.example?="
    cleaned = clean_header_value(once)
    assert not _decodes_something(cleaned) and _send_passes(cleaned)
    assert "printer" in cleaned


@pytest.mark.parametrize(
    "field",
    [
        "subject",
        "from_name",
        "job_id",
        "headers",
        "to_name",
        "to_address",
        "attachment_name",
        "attachment_content_type",
        "attachment_content_id",
    ],
)
def test_the_job_contract_refuses_an_encoded_word_in_every_header_field(field: str) -> None:
    bad = "=?utf-8?q?a=0D=0ABcc:_x=40evil.example?="
    with pytest.raises(ValidationError, match="encoded word"):
        OutboundEmail.model_validate(_job_with(field, bad))


_long_word = st.integers(min_value=900, max_value=998).map(lambda n: "N" * n)
_any_value = _ew_text | _text | _long_word


def _job_or_none(data: dict[str, object]) -> OutboundEmail | None:
    try:
        return OutboundEmail.model_validate(data)
    except ValidationError:
        return None


@settings(max_examples=250, deadline=None)
@given(subject=_any_value, name=_any_value, value=_any_value, filename=_any_value)
def test_whatever_passes_the_contract_builds_exactly_its_headers_or_is_refused(
    subject: str, name: str, value: str, filename: str
) -> None:
    """Raw values (encoded words, encoded CR/LF, long unbreakable names): a job the contract
    lets through is built with exactly the headers it asked for, each reading back as given,
    no line over 998 octets -- or refused with UnsafeHeaders, never anything else."""
    from services.sender.domain.attachments import AttachmentBytes
    from services.sender.domain.mime import UnsafeHeaders, build_mime
    from services.sender.domain.policy import SendDecision

    job = _job_or_none(
        {
            "job_id": "j-1",
            "mailbox": "support@contoso.com",
            "from_name": name,
            "to": [{"address": "c@example.com", "name": name}],
            "subject": subject,
            "text": "body",
            "headers": {"X-Ref": value},
            "attachments": [{"name": filename or "f", "content_base64": "aGk="}],
        }
    )
    if job is None:
        return
    decision = SendDecision("support@contoso.com", "support@contoso.com", name)
    try:
        built = build_mime(
            job,
            decision,
            message_id_domain="mailpipe.contoso.com",
            attachments=[AttachmentBytes(filename or "f", b"data")],
            thread=None,
        )
    except UnsafeHeaders:
        return
    assert max(len(line) for line in built.mime.split(b"\r\n")) <= 998
    parsed = message_from_bytes(built.mime, policy=email_policy.default)
    asked = ["from", "to", "subject", "date", "message-id", "x-mailpipe-job-id", "x-ref"]
    assert sorted(k.lower() for k in parsed) == sorted([*asked, "mime-version", "content-type"])
    squeeze = "".join  # white space may move in folding, nothing else
    assert squeeze(str(parsed["Subject"]).split()) == squeeze(subject.split())
    assert squeeze(str(parsed["X-Ref"]).split()) == squeeze(value.split())
    for header in ("From", "To"):
        (got,) = parsed[header].addresses
        assert squeeze(got.display_name.split()) == squeeze(name.split())
    (part,) = [p for p in parsed.walk() if p.get_filename() is not None]
    assert squeeze(str(part.get_filename()).split()) == squeeze((filename or "f").split())


@pytest.mark.parametrize("where", ["from_name", "to_name", "filename"])
def test_a_long_unbreakable_name_never_makes_a_line_over_998_octets(where: str) -> None:
    from services.sender.domain.attachments import AttachmentBytes
    from services.sender.domain.mime import UnsafeHeaders, build_mime
    from services.sender.domain.policy import SendDecision

    long = "N" * 998
    job = OutboundEmail.model_validate(
        {
            "job_id": "j-1",
            "mailbox": "support@contoso.com",
            "to": [{"address": "c@example.com", "name": long if where == "to_name" else ""}],
            "subject": "s",
            "text": "body",
        }
    )
    decision = SendDecision(
        "support@contoso.com", "support@contoso.com", long if where == "from_name" else ""
    )
    filename = long if where == "filename" else "a.txt"
    try:
        built = build_mime(
            job,
            decision,
            message_id_domain="mailpipe.contoso.com",
            attachments=[AttachmentBytes(filename, b"data")],
            thread=None,
        )
    except UnsafeHeaders as exc:
        assert exc.code == "header_not_writable" and exc.hint
        return
    assert max(len(line) for line in built.mime.split(b"\r\n")) <= 998


@pytest.mark.parametrize(
    "field", ["subject", "from_name", "to_name", "x_header", "filename", "to_address"]
)
def test_the_builder_refuses_what_would_not_read_back_even_past_the_contract(field: str) -> None:
    """The second wall: a job that skipped validation (model_construct) still cannot inject."""
    from libs.common.contracts import Address
    from services.sender.domain.attachments import AttachmentBytes
    from services.sender.domain.mime import UnsafeHeaders, build_mime
    from services.sender.domain.policy import SendDecision

    bad = "=?utf-8?q?hello=0D=0ABcc:_attacker=40evil.example?="
    good = OutboundEmail.model_validate(
        {
            "job_id": "j-1",
            "mailbox": "support@contoso.com",
            "to": [{"address": "c@example.com"}],
            "subject": "s",
            "text": "body",
        }
    )
    to = Address.model_construct(
        address=f"{bad}@example.org" if field == "to_address" else "c@example.com",
        name=bad if field == "to_name" else "",
    )
    job = good.model_copy(
        update={
            "subject": bad if field == "subject" else "s",
            "to": (to,),
            "headers": {"X-Ref": bad} if field == "x_header" else {},
        }
    )
    decision = SendDecision(
        "support@contoso.com", "support@contoso.com", bad if field == "from_name" else ""
    )
    with pytest.raises(UnsafeHeaders):
        build_mime(
            job,
            decision,
            message_id_domain="mailpipe.contoso.com",
            attachments=[AttachmentBytes(bad if field == "filename" else "a.txt", b"data")],
            thread=None,
        )
