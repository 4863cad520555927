"""Who an auto-acknowledgement may go to: never us, a lookalike of us, or a machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ticketer.domain.ackrules import AckRefusal, ack_refusal, own_domains
from services.ticketer.domain.lookalike import resemblance, skeleton

OWNS = own_domains(
    ["support@contoso.com", "help@fabrikam.example", "agent@Tailspin.Example"],
    ["mailpipe.contoso.com"],
)


def test_own_domains_are_lower_cased_and_unique() -> None:
    assert OWNS == ("contoso.com", "fabrikam.example", "tailspin.example", "mailpipe.contoso.com")
    assert own_domains(["a@x.example", "b@X.example", "not-an-address"], [" ", "y.example."]) == (
        "x.example",
        "y.example",
    )


@pytest.mark.parametrize(
    "address",
    [
        "ann@customer.example",
        "bob@gmail.com",
        "carol@outlook.com",
        "dave@contoso.net",  # same name, other suffix: may well be another company
        "dave@contour.com",  # two letters off: another name
        "erin@contosoltd.com",
        "frank@notcontoso.com",
        "grace@fabrikam.co.uk",
        "heidi@xn--mller-kva.example",  # müller.example: a real IDN, nothing like ours
        "ivan@例え.jp",
        "judy@sub.customer.example",
        "o'brien+tag@customer.example",
    ],
)
def test_ordinary_customers_may_be_acknowledged(address: str) -> None:
    assert ack_refusal(address, OWNS) is None


@pytest.mark.parametrize(
    ("address", "reason", "own"),
    [
        ("support@contoso.com", "own_domain", "contoso.com"),
        ("Anyone@CONTOSO.COM", "own_domain", "contoso.com"),
        ("x@contoso.com.", "own_domain", "contoso.com"),
        ("x@eu.contoso.com", "own_domain", "contoso.com"),
        ("x@mailpipe.contoso.com", "own_domain", "contoso.com"),
        ("x@fabrikam.example", "own_domain", "fabrikam.example"),
        ("x@tailspin.example", "own_domain", "tailspin.example"),
        # our domain followed by more labels, or glued into one
        ("support@contoso.com.evil.org", "lookalike", "contoso.com"),
        ("support@contoso-com.evil.org", "lookalike", "contoso.com"),
        ("support@login.contoso.com-secure.net", "lookalike", "contoso.com"),
        ("support@contosocom.net", "lookalike", "contoso.com"),
        ("support@con-toso.com", "lookalike", "contoso.com"),
        # homoglyphs: Cyrillic, Greek, digits, letter pairs, accents, fullwidth, punycode
        ("support@c\u043entoso.com", "lookalike", "contoso.com"),
        ("support@\u0441\u043entoso.com", "lookalike", "contoso.com"),  # Cyrillic c, o
        ("support@xn--cntoso-wqf.com", "lookalike", "contoso.com"),
        ("support@XN--CNTOSO-WQF.COM", "lookalike", "contoso.com"),
        ("support@c0ntoso.com", "lookalike", "contoso.com"),
        ("support@cont0s0.com", "lookalike", "contoso.com"),
        ("support@c\u00f3ntoso.com", "lookalike", "contoso.com"),
        ("support@\uff43\uff4f\uff4e\uff54\uff4f\uff53\uff4f.com", "lookalike", "contoso.com"),
        ("support@fabrikarn.example", "lookalike", "fabrikam.example"),
        ("support@fabr\u0456kam.example", "lookalike", "fabrikam.example"),
        ("support@c\u03bfntoso.com", "lookalike", "contoso.com"),  # Greek omicron
        # one slip of the keyboard on a longer domain
        ("support@contosso.com", "lookalike", "contoso.com"),
        ("support@cotnoso.com", "lookalike", "contoso.com"),
        ("support@contoso.co", "lookalike", "contoso.com"),
        ("support@fabrikan.example", "lookalike", "fabrikam.example"),
        # our name spelled with homoglyphs under another suffix
        ("support@c\u043entoso.net", "lookalike", "contoso.com"),
        ("support@c0ntoso.co", "lookalike", "contoso.com"),
    ],
)
def test_no_acknowledgement_to_our_domains_or_their_lookalikes(
    address: str, reason: str, own: str
) -> None:
    assert ack_refusal(address, OWNS) == AckRefusal(reason, own)


@pytest.mark.parametrize(
    "address",
    [
        "MAILER-DAEMON@customer.example",
        "mailer_daemon@customer.example",
        "postmaster@customer.example",
        "noreply@customer.example",
        "no-reply@customer.example",
        "do-not-reply@customer.example",
        "DoNotReply@customer.example",
        "noreply+abc@customer.example",
        "bounces+123@customer.example",
        "owner-staff@lists.customer.example",
        "staff-request@lists.customer.example",
        "listserv@lists.customer.example",
    ],
)
def test_no_acknowledgement_to_machine_senders(address: str) -> None:
    refusal = ack_refusal(address, OWNS)
    assert refusal is not None and refusal.reason == "machine_sender"


@pytest.mark.parametrize(
    ("address", "reason"),
    [(None, "no_from"), ("", "no_from"), ("   ", "no_from"), ("nobody", "not_an_address"),
     ("@customer.example", "not_an_address"), ("a@localhost", "not_an_address")],
)  # fmt: skip
def test_no_acknowledgement_without_a_usable_from(address: str | None, reason: str) -> None:
    assert ack_refusal(address, OWNS) == AckRefusal(reason)


def test_skeleton_folds_what_reads_alike() -> None:
    assert skeleton("XN--CNTOSO-WQF.COM") == skeleton("contoso.com")
    assert skeleton("rnicrosoft.com") == skeleton("microsoft.com")
    assert skeleton("paypa1.com") == skeleton("paypal.com")
    assert skeleton("vvikipedia.org") == skeleton("wikipedia.org")
    assert skeleton("xn--broken-!!") == "xn--broken-!!"  # undecodable punycode is kept


def test_resemblance_of_empty_or_odd_domains_is_none() -> None:
    assert resemblance("", "contoso.com") is None
    assert resemblance("contoso.com", "") is None
    assert resemblance("...", "contoso.com") is None


@settings(max_examples=300, deadline=None)
@given(address=st.one_of(st.none(), st.text(max_size=80), st.emails().map(str)))
def test_any_from_value_gets_a_decision_without_raising(address: str | None) -> None:
    refusal = ack_refusal(address, OWNS)
    assert refusal is None or refusal.reason in {
        "no_from",
        "not_an_address",
        "own_domain",
        "lookalike",
        "machine_sender",
    }
