"""quotequail reads a reply first; our rules extend it and guard the customer's own text."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticketer.domain.bodies import reply_text, strip_quoted
from services.ticketer.domain.quotes import quote_start
from services.ticketer.domain.replycut import library_quote_start, reply_quote_start

NEW = "Der Drucker druckt wieder nicht."

# Quote headers quotequail knows and our own rules did not.
LIBRARY_ONLY = {
    "nl-forum": "Op 2 nov. 2026 heeft Helpdesk <h@contoso.example> het volgende geschreven:\n"
    "> Opnieuw opgestart?",
    "gmail-date-address": "2026/11/02 Helpdesk <helpdesk@contoso.example>\n> Restarted?",
}

# Forward markers quotequail knows: what follows is a mail the customer brings, kept.
FORWARDS = {
    "gmail-forward": "---------- Forwarded message ---------\nFrom: Vendor <v@vendor.example>\n"
    "Date: Mon, 2 Nov 2026 at 10:00\nSubject: Firmware\n\nPlease update.",
    "apple-forward": "Begin forwarded message:\n\nFrom: Vendor <v@vendor.example>\n"
    "Subject: Firmware\n\nPlease update.",
    "apple-forward-de": "Anfang der weitergeleiteten E-Mail:\n\nVon: Vendor\n\nBitte "
    "aktualisieren.",
    "es-forward": "----- Mensaje reenviado -----\nDe: Vendor\nActualice, por favor.",
    "ru-forward": "-------- Пересылаемое сообщение --------\nОт кого: Vendor\nОбновите.",  # noqa: RUF001
}


@pytest.mark.parametrize("quote", LIBRARY_ONLY.values(), ids=list(LIBRARY_ONLY))
def test_what_quotequail_adds_starts_the_quote(quote: str) -> None:
    text = f"{NEW}\n\n{quote}\n"
    assert quote_start(text) != len(NEW) + 2  # our own rules alone cut later, or not at all
    assert library_quote_start(text) == len(NEW) + 2
    assert strip_quoted(text) == NEW


@pytest.mark.parametrize("forward", FORWARDS.values(), ids=list(FORWARDS))
def test_a_forwarded_mail_below_the_customers_words_is_kept(forward: str) -> None:
    text = f"{NEW}\n\n{forward}\n"
    assert library_quote_start(text) == len(NEW) + 2  # quotequail finds the marker
    assert reply_quote_start(text) is None
    assert strip_quoted(text) == text.strip()
    # ... and a quote of ours above the forward is still cut, the forward below it kept.
    above = f"{NEW}\n\n{ATTRIBUTION}\n{forward}\n"
    assert strip_quoted(above) == f"{NEW}\n\n{forward.strip()}"


def test_an_html_quote_container_holding_a_forward_is_kept() -> None:
    gmail = (
        f'<div>{NEW}</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: Vendor &lt;v@vendor.example&gt;<br>"
        "Date: Mon, 2 Nov 2026 at 10:00<br>Subject: Firmware<br></div><br>"
        "<div>Please update.</div></div>"
    )
    assert "Please update." in reply_text(None, gmail)
    quoted = gmail.replace(
        "---------- Forwarded message ---------",
        "On Mon, 2 Nov 2026 at 10:00, Helpdesk &lt;h@contoso.example&gt; wrote:",
    )
    assert reply_text(None, quoted) == NEW


@pytest.mark.parametrize(
    "text",
    [
        # an attribution that names neither a date nor an address
        "On reflection my colleague wrote:\nthat the printer is fine.\nIt is not.",
        "El técnico escribió:\nque la impresora funciona.\nPero no funciona.",
        # nothing quoted follows
        "Please check.\n\nOn Mon, 2 Nov 2026 at 10:00, the technician wrote:\n",
        "Please check.\n\nBegin forwarded message:\n",
    ],
)
def test_quotequails_cut_in_the_customers_own_text_is_refused(text: str) -> None:
    assert library_quote_start(text) is None
    assert strip_quoted(text) == text.strip()


def test_an_attribution_in_a_quoted_line_does_not_cut_the_answers_after_it() -> None:
    text = "> On Mon, 2 Nov 2026 Bob <b@contoso.example> wrote:\n>> Restarted?\nYes, twice."
    assert library_quote_start(text) is None
    assert strip_quoted(text) == "Yes, twice."


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # quotequail joins the customer's last line with the attribution; the next try finds it
        ("Thanks\nИван Петров <i@contoso.example> написал(а):\n> old", "Thanks"),  # noqa: RUF001
        (
            "On Monday it jammed twice\nOn Mon, 2 Nov 2026, Helpdesk wrote:\n> x",
            "On Monday it jammed twice",
        ),
    ],
)
def test_a_refused_two_line_join_reads_on_to_the_real_header(text: str, new: str) -> None:
    assert library_quote_start(text) == len(new) + 1
    assert strip_quoted(text) == new


def test_our_rules_cut_before_quotequails_header_when_theirs_comes_first() -> None:
    """An Outlook block (ours) above an older Gmail attribution (quotequail's)."""
    outlook = "From: Helpdesk <h@contoso.example>\nSent: Monday, 2 November 2026 10:00\n"
    older = "On Sun, 1 Nov 2026 at 09:00, Alice <a@kunde.example> wrote:\n> It jams."
    text = f"{NEW}\n\n{outlook}\nRestarted?\n\n{older}\n"
    assert library_quote_start(text) == text.index("On Sun")
    assert reply_quote_start(text) == len(NEW) + 2
    assert strip_quoted(text) == NEW


def test_an_html_reply_without_quote_containers_is_read_by_quotequail_too() -> None:
    html = f"<p>{NEW}</p><p>2026/11/02 Helpdesk &lt;helpdesk@contoso.example&gt;</p>"
    html += "<p>&gt; Restarted?</p>"
    assert reply_text(None, html) == NEW


ATTRIBUTION = "On Mon, 2 Nov 2026 at 10:00, Helpdesk <h@contoso.example> wrote:\n> old\n"


HOSTILE = {
    "am-schrieb": "Am " + "schrieb " * 12000,  # quadratic in quotequail's German pattern
    "op-heeft": "Op " + "heeft " * 16000,  # and in its Dutch one
    "op-heeft-lines": ("Op " + "heeft " * 66 + "\n") * 300,
    "gmail-date": "2026/1/1 " + " <" * 30000,
    "on": "On " * 30000,
    "div": "<div " * 20000,
    "lines": "a\n" * 50000,
}


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=list(HOSTILE))
def test_hostile_text_is_kept_whole_and_a_quote_after_it_is_still_cut(hostile: str) -> None:
    assert strip_quoted(hostile) == hostile.strip()
    assert strip_quoted(f"{hostile}\n\n{ATTRIBUTION}") == hostile.strip()


def test_fifty_thousand_quoted_lines_are_kept_as_nothing_new_remains() -> None:
    text = "> \n" * 50000 + ATTRIBUTION
    assert strip_quoted(text) == text.strip()


def test_past_what_quotequail_reads_our_rules_still_find_the_quote() -> None:
    new = "\n".join(f"line {n}" for n in range(3000))
    outlook = "From: Helpdesk <h@contoso.example>\nSent: Monday 10:00\n\nold"
    assert library_quote_start(f"{new}\n\n{ATTRIBUTION}") is None
    assert strip_quoted(f"{new}\n\n{ATTRIBUTION}") == new
    assert strip_quoted(f"{new}\n\n{outlook}") == new


_CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "realworld"


def _text_part(path: Path) -> str | None:
    mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    part = mail.get_body(preferencelist=("plain",))
    content = part.get_content() if part is not None else None
    return content if isinstance(content, str) else None


# talon's replies from real clients: who finds the quote (quotequail, or our rules alone).
TALON = {
    "aol.eml": "quotequail",
    "apple_mail.eml": "quotequail",
    "comcast.eml": "quotequail",
    "gmail.eml": "quotequail",
    "iphone.eml": "quotequail",
    "sparrow.eml": "quotequail",
    "yahoo.eml": "quotequail",
    "android.eml": "ours",  # "… <" / "bob@… написал:", wrapped in the address
    "outlook.eml": "ours",  # Outlook's From/Sent/To/Subject block
    "reply-quotations-share-block.eml": "ours",  # Yahoo's "--- On … wrote:"
}


@pytest.mark.parametrize(("name", "reader"), TALON.items(), ids=list(TALON))
def test_real_client_replies_are_cut_by_quotequail_or_our_rules(name: str, reader: str) -> None:
    text = _text_part(_CORPUS / "talon" / name)
    assert text is not None
    cut = reply_quote_start(text)
    assert cut is not None
    assert (library_quote_start(text) == cut) is (reader == "quotequail")
    assert strip_quoted(text) == text[:cut].strip()
    assert "Hello" in strip_quoted(text) or "Sounds great" in strip_quoted(text)


def test_on_the_real_world_corpus_quotequail_first_cuts_where_our_rules_alone_did() -> None:
    changed = []
    mails = (p for p in _CORPUS.rglob("*") if p.is_file() and p.suffix not in (".md", ".json"))
    for path in sorted(mails):
        try:
            text = _text_part(path)
        except LookupError:  # two mails name a charset no codec knows
            continue
        if text and reply_quote_start(text) != quote_start(text):
            changed.append(path.relative_to(_CORPUS).as_posix())
    # The one mail that differed was a forward (sisimai/lhost-sendmail-14.eml): it is kept.
    assert changed == []


# Lines drawn from quote headers of both readers, the customer's own words and quoted lines.
_LINES = st.sampled_from(
    [
        "On Mon, 2 Nov 2026 at 10:00, Helpdesk <h@contoso.example> wrote:",
        "On Mon, 2 Nov 2026 at 10:00, Helpdesk",
        "<h@contoso.example> wrote:",
        "Begin forwarded message:",
        "-----Original Message-----",
        "From: Helpdesk <h@contoso.example>",
        "Sent: Monday 10:00",
        "El técnico escribió:",
        "On Monday it jammed twice",
        "> Restarted?",
        "It still jams.",
        "",
    ]
)


@given(st.lists(_LINES, max_size=12), st.booleans())
def test_the_new_text_is_never_empty_and_only_the_mails_own_lines(
    lines: list[str], crlf: bool
) -> None:
    text = ("\r\n" if crlf else "\n").join(lines)
    new = strip_quoted(text)
    assert bool(new) is bool(text.strip())
    own = {line.strip() for line in text.splitlines()}
    # (a blank line may part the text before the quote from answers written among it)
    assert all(line.strip() in own for line in new.splitlines() if line.strip())
    cut = reply_quote_start(text)
    assert cut is None or 0 <= cut < len(text)


INLINE = "On Mon, 2 Nov 2026 at 10:00, Helpdesk <h@contoso.example> wrote:\n"


def test_answers_written_between_the_quoted_lines_are_kept() -> None:
    text = f"Answers inline.\n\n{INLINE}> Did you restart?\nYes, twice.\n> Which model?\nHP 4050.\n"
    assert strip_quoted(text) == "Answers inline.\n\nYes, twice.\nHP 4050."


def test_a_bottom_posted_answer_below_the_quote_is_kept() -> None:
    text = f"{INLINE}> Did you restart?\n> Which model?\n\nYes, twice. It is an HP 4050.\n"
    assert strip_quoted(text) == "Yes, twice. It is an HP 4050."
    text = f"Hi,\n\n{INLINE}> Did you restart?\n\nYes, twice.\n-- \nAnn\n"
    assert strip_quoted(text) == "Hi,\n\nYes, twice.\n-- \nAnn"


def test_history_quoted_without_marks_is_cut_whole() -> None:
    outlook = "From: Helpdesk <h@contoso.example>\nSent: Monday 10:00\nTo: Ann\nSubject: x\n\n"
    text = f"{NEW}\n\n{outlook}Did you restart?\n> older quote\nOld words.\n"
    assert strip_quoted(text) == NEW
