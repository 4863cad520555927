"""Record tokens in subjects, and our Message-ID scheme."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.errors import ConfigError
from libs.common.msgid import (
    default_message_id_domain,
    is_our_message_id,
    make_message_id,
)
from libs.common.record_token import apply_record_token, find_record_token, record_token


def test_record_token_default_and_custom_format() -> None:
    assert record_token(12) == "[#12]"
    assert record_token(7, "[Ticket#{id}]") == "[Ticket#7]"


@pytest.mark.parametrize(
    "subject",
    [
        "[#12] Printer",
        "Re: [#12] Printer",
        "RE:  AW: [#12] Printer",
        "Fwd: Re:[#12]Printer",
        "WG: Printer [ # 12 ]",
        "  aw : sv: [#12]",
    ],
)
def test_find_tolerates_prefixes_and_whitespace(subject: str) -> None:
    assert find_record_token(subject) == 12


@pytest.mark.parametrize("subject", ["Printer 12", "#12", "[12]", "[#x12]", "", "Re: [#] hi"])
def test_find_ignores_what_is_not_a_token(subject: str) -> None:
    assert find_record_token(subject) is None


def test_find_with_a_custom_format_is_case_insensitive() -> None:
    assert find_record_token("Re: [TICKET#44] disk", "[Ticket#{id}]") == 44
    assert find_record_token("MyTicket 5 broken", "Ticket {id}") is None
    assert find_record_token("Ticket 5 broken", "Ticket {id}") == 5


def test_apply_inserts_once_after_reply_prefixes() -> None:
    assert apply_record_token("Printer", 12) == "[#12] Printer"
    assert apply_record_token("Re: AW: Printer", 12) == "Re: AW: [#12] Printer"
    assert apply_record_token("", 12) == "[#12]"
    assert apply_record_token("Re: [#12] Printer", 12) == "Re: [#12] Printer"
    assert apply_record_token("Re: [ #12 ] Printer", 12) == "Re: [ #12 ] Printer"


def test_apply_with_another_records_token_puts_ours_first() -> None:
    subject = apply_record_token("Re: [#5] Printer", 12)
    assert subject == "Re: [#12] [#5] Printer"
    assert find_record_token(subject) == 12


@given(st.text(max_size=60), st.integers(min_value=1, max_value=10**12))
def test_apply_is_idempotent_and_findable(subject: str, record_id: int) -> None:
    once = apply_record_token(subject, record_id)
    assert find_record_token(once) == record_id
    assert apply_record_token(once, record_id) == once
    assert apply_record_token("Re: " + once, record_id) == "Re: " + once


@pytest.mark.parametrize("fmt", ["#", "{id}{id}", "{id}", " {id} ", "[#{id}]\n"])
def test_bad_formats_are_config_errors(fmt: str) -> None:
    with pytest.raises(ConfigError):
        record_token(1, fmt)


def test_message_id_is_deterministic_per_mailbox_and_job() -> None:
    domain = default_message_id_domain("Help@Contoso.com")
    assert domain == "mailpipe.contoso.com"
    first = make_message_id("help@contoso.com", "job-1", domain)
    assert first == make_message_id("HELP@contoso.com", "job-1", domain)
    assert first != make_message_id("help@contoso.com", "job-2", domain)
    assert first != make_message_id("other@contoso.com", "job-1", domain)
    assert first.startswith("<") and first.endswith("@mailpipe.contoso.com>")


def test_idn_mailbox_domain_is_punycoded() -> None:
    assert default_message_id_domain("hilfe@bücher.example") == "mailpipe.xn--bcher-kva.example"


def test_bad_message_id_domain_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        make_message_id("help@contoso.com", "job-1", "not a domain")


def test_is_our_message_id() -> None:
    mid = make_message_id("help@contoso.com", "job-1", "mailpipe.contoso.com")
    assert is_our_message_id(mid, "mailpipe.contoso.com")
    assert is_our_message_id(mid.upper(), "mailpipe.contoso.com")
    assert is_our_message_id(mid.strip("<>"), "MAILPIPE.contoso.com")
    assert is_our_message_id(mid, ["mailpipe.fabrikam.com", "mailpipe.contoso.com"])
    assert not is_our_message_id(mid, "mailpipe.fabrikam.com")
    assert not is_our_message_id("<abc@contoso.com>", "mailpipe.contoso.com")
    assert not is_our_message_id("<abc@x.mailpipe.contoso.com>", "mailpipe.contoso.com")
    assert not is_our_message_id("<@mailpipe.contoso.com>", "mailpipe.contoso.com")
    assert not is_our_message_id(None, "mailpipe.contoso.com")
    assert not is_our_message_id("garbage", "mailpipe.contoso.com")


# --- the one canonical form of a Message-ID ---------------------------------------------------


def test_canonical_message_id_brackets_trims_and_drops_control_characters() -> None:
    from libs.common.msgid import canonical_message_id

    assert canonical_message_id(" <a@b> ") == "<a@b>"
    assert canonical_message_id("a@b") == "<a@b>"
    assert canonical_message_id("<a\x00@b\x0b>") == "<a@b>"
    assert canonical_message_id("<a@b\ud800>") == "<a@b>"
    assert canonical_message_id(" <> ") is None
    assert canonical_message_id(None) is None


def test_an_overlong_message_id_becomes_a_stable_digest_that_fits_every_field() -> None:
    from libs.common.contracts import ProcessedEmail
    from libs.common.msgid import LONG_ID_DOMAIN, MAX_MESSAGE_ID_CHARS, canonical_message_id

    long_id = "<" + "x" * 1500 + "@example.com>"
    canonical = canonical_message_id(long_id)
    assert canonical is not None and canonical.endswith(f"@{LONG_ID_DOMAIN}>")
    assert len(canonical) <= MAX_MESSAGE_ID_CHARS
    # Cut or bare, brackets or not: the same id always gives the same canonical form.
    assert canonical_message_id(long_id.strip("<>")) == canonical
    assert canonical_message_id(canonical) == canonical
    assert canonical_message_id("<" + "y" * 1500 + "@example.com>") != canonical
    # A contract given the raw id carries the canonical one (it used to fail validation).
    done = ProcessedEmail.model_validate(
        {
            "mailbox": "support@contoso.com",
            "message_id": "g1",
            "provider": "microsoft",
            "internet_message_id": long_id,
            "outcome": "created",
            "record_id": 1,
            "processed_at": "2026-01-01T00:00:00Z",
        }
    )
    assert done.internet_message_id == canonical


def test_split_message_ids_gives_canonical_ids_once_each() -> None:
    from libs.common.msgid import canonical_message_id, split_message_ids

    long_id = "<" + "z" * 1200 + "@example.com>"
    assert split_message_ids(f"<a@b> {long_id} <a@b>") == ["<a@b>", canonical_message_id(long_id)]


def test_comments_and_white_space_give_the_same_canonical_id() -> None:
    from libs.common.msgid import canonical_message_id, split_message_ids

    assert canonical_message_id("<a@b> (sent by FooMailer)") == "<a@b>"
    assert canonical_message_id("(comment) <a@b>") == "<a@b>"
    assert canonical_message_id("a@b (comment (nested))") == "<a@b>"
    assert canonical_message_id("<a b@c>") == canonical_message_id("<a\tb@c>") == "<ab@c>"
    assert split_message_ids("<a b@c> (x) <d@e>") == ["<ab@c>", "<d@e>"]
    assert split_message_ids("no ids here") == []


def test_the_length_bound_is_in_utf8_bytes() -> None:
    """998 CJK characters fit the character bound but are ~3,000 bytes: more than a
    PostgreSQL index row holds; such an id becomes a digest too."""
    from libs.common.msgid import LONG_ID_DOMAIN, MAX_MESSAGE_ID_BYTES, canonical_message_id

    cjk = canonical_message_id("<" + "漢" * 900 + "@example.com>")
    assert cjk is not None and cjk.endswith(f"@{LONG_ID_DOMAIN}>")
    ascii_ok = "<" + "a" * (MAX_MESSAGE_ID_BYTES - 14) + "@example.com>"
    assert len(ascii_ok) == MAX_MESSAGE_ID_BYTES
    assert canonical_message_id(ascii_ok) == ascii_ok


def test_c1_controls_and_non_characters_are_dropped_from_message_ids() -> None:
    from libs.common.msgid import canonical_message_id

    assert canonical_message_id("<a\x85\x9b@b\ufffe\uffff>") == "<a@b>"


def test_a_token_format_with_an_encoded_word_is_refused_at_start() -> None:
    import pytest

    from libs.common.errors import ConfigError
    from libs.common.record_token import check_token_format

    with pytest.raises(ConfigError):
        check_token_format("=?utf-8?q?x?= [#{id}]")


def test_bare_ids_commas_mixtures_and_deep_comments_split_into_each_id_once() -> None:
    from libs.common.msgid import canonical_message_id, split_message_ids

    assert split_message_ids("a@b c@d,e@f; <g@h>") == ["<a@b>", "<c@d>", "<e@f>", "<g@h>"]
    assert split_message_ids("<a@b>,c@d\r\n\t<a@b>") == ["<a@b>", "<c@d>"]
    deep = "(" * 3000 + "x@y" + ")" * 3000
    assert split_message_ids(f"{deep} <a@b> (unclosed c@d") == ["<a@b>", "<c@d>"]
    assert canonical_message_id(f"a@b {deep}") == "<a@b>"
    assert split_message_ids("a" * 20000) == []
