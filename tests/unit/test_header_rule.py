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
    job: dict[str, object] = {
        "job_id": "j-1",
        "mailbox": "support@contoso.com",
        "to": [{"address": "c@example.com"}],
        "subject": "hello",
        "text": "body",
    }
    bad = "a\x0bb"
    if field == "headers":
        job["headers"] = {"X-Ref": bad}
    elif field == "to_name":
        job["to"] = [{"address": "c@example.com", "name": bad}]
    elif field == "attachment_name":
        job["attachments"] = [{"name": bad, "content_base64": "aGk="}]
    else:
        job[field] = bad
    with pytest.raises(ValidationError, match="U\\+000B"):
        OutboundEmail.model_validate(job)


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
    assert " ".join(str(parsed["X-Ref"]).split()) == " ".join(value.split())
    assert " ".join(str(parsed["Subject"]).split()) == " ".join(built.subject.split())
    (part,) = [p for p in parsed.walk() if p.get_filename() is not None]
    assert " ".join(str(part.get_filename()).split()) == " ".join(filename.split())
