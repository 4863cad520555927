"""Who an auto-acknowledgement may go to: never us, a lookalike of us, or a machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ticketer.domain.ackrules import AckRefusal, ack_refusal, own_domains
from services.ticketer.domain.lookalike import mail_domain, resemblance, skeleton

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


# --- what reads as a dot or as nothing (UTS #46) ---------------------------------------------

#: The label separators IDNA reads as a dot, and look-alike dots NFKC makes one.
DOTS = ["\u3002", "\uff0e", "\uff61", "\u2024", "\ufe52"]
#: Default-ignorable code points: zero-width, joiners, soft hyphen, word joiner, BOM, bidi
#: controls, fillers, variation selectors, tag characters …
INVISIBLES = [
    "\u00ad", "\u034f", "\u061c", "\u115f", "\u1160", "\u17b4", "\u180b", "\u180e",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2060",
    "\u2064", "\u2066", "\u206f", "\u3164", "\ufe00", "\ufe0f", "\ufeff", "\uffa0",
    "\U0001bca0", "\U0001d173", "\U000e0001", "\U000e0041", "\U000e0100",
]  # fmt: skip


@pytest.mark.parametrize("dot", DOTS)
def test_an_idna_dot_variant_does_not_hide_our_domain_inside_another(dot: str) -> None:
    assert ack_refusal(f"bob@contoso.com{dot}evil.org", OWNS) == AckRefusal(
        "lookalike", "contoso.com"
    )
    assert ack_refusal(f"bob@contoso{dot}com", OWNS) == AckRefusal("lookalike", "contoso.com")
    assert ack_refusal(f"bob@contoso.com{dot}", OWNS) == AckRefusal("lookalike", "contoso.com")
    assert ack_refusal(f"bob@mail{dot}contoso-help{dot}de", OWNS) == AckRefusal(
        "lookalike", "contoso.com"
    )


@pytest.mark.parametrize("invisible", INVISIBLES)
def test_an_invisible_character_does_not_hide_our_domain(invisible: str) -> None:
    for domain in (
        f"contoso.com{invisible}.evil.org",
        f"contoso.com.{invisible}evil.org",
        f"con{invisible}toso.com.evil.org",
        f"contoso{invisible}.com",
        f"contoso.com{invisible}",
        f"{invisible}contoso.com",
    ):
        assert ack_refusal(f"bob@{domain}", OWNS) == AckRefusal("lookalike", "contoso.com"), domain
    assert ack_refusal(f"no{invisible}reply@customer.example", OWNS) == AckRefusal(
        "machine_sender", "noreply"
    )
    assert ack_refusal(f"bob@customer{invisible}.example", OWNS) is None


def test_a_domain_is_read_as_a_mail_system_reads_it() -> None:
    assert mail_domain("Contoso.COM\u3002Evil\uff0eorg\uff61") == "contoso.com.evil.org"
    assert mail_domain("con\u00adtoso\u200b.com\u200d\ufeff.evil\u2060.org") == (
        "contoso.com.evil.org"
    )
    assert mail_domain("\uff43\uff4f\uff4e\uff54\uff4f\uff53\uff4f.com") == "contoso.com"
    assert mail_domain("stra\u00dfe.example") == "strasse.example"
    assert mail_domain("m\u00fcller.example") == "m\u00fcller.example"  # a real IDN is kept
    assert skeleton("xn--cntoso-wqf.com\u3002evil.org") == "contoso.com.evil.org"


def test_the_full_width_at_sign_splits_like_at() -> None:
    assert ack_refusal("bob\uff20contoso.com", OWNS) == AckRefusal("own_domain", "contoso.com")
    assert ack_refusal(
        "\uff2d\uff21\uff29\uff2c\uff25\uff32-\uff24\uff21\uff25\uff2d\uff2f\uff2e@x.example", OWNS
    ) == (AckRefusal("machine_sender", "mailer-daemon"))
    assert ack_refusal("\u200b@customer.example", OWNS) == AckRefusal("not_an_address")
    assert ack_refusal("a@localhost\u3002", OWNS) == AckRefusal("not_an_address")


@settings(max_examples=400, deadline=None)
@given(
    domain=st.sampled_from(
        ["contoso.com.evil.org", "contoso.com", "eu.contoso.com", "contoso-support.com",
         "customer.example", "contoso.net", "sub.customer.example", "notcontoso.com"]
    ),
    data=st.data(),
)  # fmt: skip
def test_dots_and_invisibles_anywhere_change_no_decision(domain: str, data: st.DataObject) -> None:
    """Whatever a mail system reads as a dot or as nothing, anywhere in the domain, leaves the
    decision as it is for the plain domain (our own, written so, is a lookalike)."""
    noisy = ""
    for char in domain:
        if char == ".":
            char = data.draw(st.sampled_from([".", *DOTS]))
        noisy += char + "".join(data.draw(st.lists(st.sampled_from(INVISIBLES), max_size=2)))
    if data.draw(st.booleans()):
        noisy = data.draw(st.sampled_from(INVISIBLES)) + noisy
    clean, seen = ack_refusal(f"bob@{domain}", OWNS), ack_refusal(f"bob@{noisy}", OWNS)
    if clean is None:
        assert seen is None
    else:
        assert seen is not None and seen.reason in {"own_domain", "lookalike"}
        assert seen.detail == clean.detail


# --- our name as a word of another domain -----------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        "contoso-support.com",
        "support-contoso.com",
        "contoso-help.de",
        "my-contoso.net",
        "contoso_help.net",
        "login.contoso-secure.net",
        "contoso.evil.org",  # our name under someone else's domain
        "contoso.zendesk.example",
        "c\u043entoso-support.com",  # and with a homoglyph
        "c0ntoso-help.de",
        "contoso.k12.ca.us",  # an unlisted second level: our name taken for a subdomain
    ],
)
def test_our_name_as_a_whole_word_of_another_domain_is_a_lookalike(domain: str) -> None:
    assert ack_refusal(f"bob@{domain}", OWNS) == AckRefusal("lookalike", "contoso.com")


@pytest.mark.parametrize(
    "domain",
    [
        "contosohelp.com",  # glued into another word: another word
        "evilcontoso.com",
        "contoso.co.uk",  # the name registered under another suffix
        "mail.contoso.net",
        "contoso.or.jp",
    ],
)
def test_our_name_registered_elsewhere_or_inside_another_word_is_not(domain: str) -> None:
    assert ack_refusal(f"bob@{domain}", OWNS) is None


def test_short_registered_names_are_not_matched_as_words() -> None:
    assert ack_refusal("bob@hp-support.example", ["hp.com"]) is None
    assert ack_refusal("bob@ibm-support.example", ["ibm.com"]) == AckRefusal("lookalike", "ibm.com")


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
