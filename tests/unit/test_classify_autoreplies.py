"""Automatic answers: the null sender is never acknowledged, out-of-office notices are known by
their subject when no header marks them, and a person's subject about absence stays a request."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.contracts import MailHeaders
from services.ticketer.domain.classify import classify
from services.ticketer.domain.facts import reverse_path
from services.ticketer.domain.inbound import facts_from_inbound
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.oof import fold, looks_like_oof, oof_subject_reason
from services.ticketer.domain.verdict import Classification
from tests.unit.inbound_builders import inbound_email

MAILBOX = "helpdesk@contoso.example"
OWN_DOMAIN = "mailpipe.contoso.example"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def raw_mail(headers: list[str], body: str = "Hello, my printer is broken.\r\n") -> bytes:
    base = [
        "From: Alice Customer <alice@customer.example>",
        f"To: Helpdesk <{MAILBOX}>",
        "Message-ID: <abc123@customer.example>",
    ]
    return ("\r\n".join(base + headers) + "\r\n\r\n" + body).encode("utf-8")


def verdict(raw: bytes) -> Classification:
    return classify(parse_mime(raw).facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


def inbound(subject: str, **headers: object) -> Classification:
    email = inbound_email(
        mailbox=MAILBOX, subject=subject, headers=MailHeaders.model_validate(headers)
    )
    facts = facts_from_inbound(email)
    return classify(facts, mailbox=MAILBOX, own_message_id_domain=OWN_DOMAIN)


# --- the null sender (RFC 3834: never answered automatically) --------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        ["Return-Path: <>"],
        ["Return-Path:<>"],
        ["Return-Path:   <  >  "],
        ["Return-Path: <> (null sender)"],
        ["Return-Path: <<>>"],
        ["Return-Path: "],
        ["Return-Path: <>", "Return-Path: <bounces@customer.example>"],
    ],
    ids=["plain", "no-space", "spaces", "comment", "doubled", "empty", "topmost-of-two"],
)
def test_a_null_sender_is_never_acknowledged_but_still_becomes_a_record(lines: list[str]) -> None:
    result = verdict(raw_mail(["Subject: Printer on floor 3", *lines]))
    assert result.kind == "request" and result.creates_record
    assert result.suppress_autoreply and not result.may_acknowledge


def test_a_null_sender_below_a_real_one_is_not_the_sender() -> None:
    lines = ["Return-Path: <alice@customer.example>", "Return-Path: <>"]
    assert verdict(raw_mail(["Subject: Printer", *lines])).may_acknowledge


def test_a_null_sender_from_the_contract_is_never_acknowledged() -> None:
    for value in ("<>", "<>  ", " < > ", "<> (x)"):
        result = inbound("Printer", return_path=value)
        assert result.kind == "request" and not result.may_acknowledge
    assert inbound("Printer", return_path="<ann@customer.example>").may_acknowledge
    assert inbound("Printer").may_acknowledge  # no Return-Path at all: not the null sender


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (None, None),
        ("<>", ""),
        ("<> (comment (nested))", ""),
        ("<bob@x.example>", "bob@x.example"),
        ("  bob@x.example ", "bob@x.example"),
        ("(via relay) <bob@x.example>", "bob@x.example"),
    ],
)
def test_reverse_path(value: str | None, path: str | None) -> None:
    assert reverse_path(value) == path


# --- out-of-office notices known by their subject alone --------------------------------------

OOF_SUBJECTS = [
    # Outlook / Exchange in its UI languages, with and without a quoted reply prefix
    "Automatic reply: Printer on floor 3",
    "Automatic reply: RE: [#2] Printer on floor 3",
    "AUTOMATIC REPLY: printer",
    "Automatische Antwort: AW: [#2] Drucker",
    "Réponse automatique : RE: [#2] Imprimante",
    "Reponse automatique: imprimante",
    "Respuesta automática: RE: impresora",
    "Risposta automatica: R: stampante",
    "Resposta automática: RE: impressora",
    "Automatisch antwoord: Antw: printer",
    "Autosvar: SV: skrivare",
    "Automatisk svar: printer",
    "Automaattinen vastaus: VS: tulostin",
    "Automatyczna odpowiedź: Odp: drukarka",
    "Автоматический ответ: принтер",
    "自動応答: プリンター",
    "自动回复: 打印机",
    "Out of Office: Re: [#2] Printer on floor 3",
    "Out of Office AutoReply: Printer",
    "Out of Office Reply: Printer",
    # Apple Mail / iCloud and generic responders
    "Auto-Reply: Printer",
    "AutoReply: Printer",
    "Auto Reply: Printer",
    "Auto Response: Printer",
    # behind a tag a gateway added
    "[EXTERNAL] Automatic reply: Printer",
    "[EXT] Out of Office: RE: [#2] Printer",
    # absence notes of Zimbra, Notes and others, quoting the subject they answer
    "Abwesenheitsnotiz: Drucker",
    "Afwezigheidsmelding: printer",
    "Away: Re: [#2] Printer",
    "Absence: RE: [#2] Imprimante",
    "Abwesend: AW: Drucker",
    "Ausente: RE: impresora",
    "Fuera de la oficina: RE: impresora",
    "Afwezig: Re: printer",
    "Niet aanwezig: Re: printer",
    "Fuori sede: R: stampante",
    "Fuori ufficio: Re: stampante",
    "Ausência: RE: impressora",
    "Fora do escritório: RE: impressora",
    "Congés: TR: imprimante",
    "En congé - RE: imprimante",
    "Vacation: Re: [#2] Printer",
    "Out of Office: [#2] Printer on floor 3",
    # Lotus Notes and the like: the whole subject is the notice
    "Jane Doe is out of the office.",
    "Jane Doe/ACME is out of the office (returning 05/01/2026)",
    "AUTO: Jane Doe is out of the office (returning 05/01/2026)",
    "Max Mustermann ist außer Haus",
    "Marie Dupont est absente du bureau",
    "Juan Pérez está fuera de la oficina",
    "Mario Rossi è fuori ufficio",
]

PERSON_SUBJECTS = [
    "Out of office: who covers the printer?",
    "Out of office",
    "Out of the office next week - please cancel my meeting room",
    "Re: my absence request",
    "Re: Out of office: who covers the printer?",
    "Vacation days question",
    "Vacation request for March",
    "Absence request for John",
    "Holiday schedule",
    "Away from keyboard: laptop does not wake up",
    "Auto: Reifenwechsel",  # German "Auto" is a car
    "Automatic reply settings do not work",
    "Re: Automatic reply settings",
    "How do I set up an auto reply?",
    "Bob is out of the office until Monday, who approves my order?",
    "Printer on floor 3",
    "Fwd: Abwesenheitsplanung",
    "Urlaubsantrag",
    "Congé maternité: question",
    "",
]


@pytest.mark.parametrize("subject", OOF_SUBJECTS)
def test_out_of_office_subject_without_any_header_is_an_auto_reply(subject: str) -> None:
    result = verdict(raw_mail([f"Subject: {subject}"]))
    assert result.kind == "auto_reply", result.reason
    assert result.reason.startswith("oof_subject:")
    assert not result.creates_record and not result.may_acknowledge


@pytest.mark.parametrize("subject", PERSON_SUBJECTS)
def test_a_person_writing_about_absence_is_a_request(subject: str) -> None:
    result = verdict(raw_mail([f"Subject: {subject}"]))
    assert (result.kind, result.reason) == ("request", "request")


# A reply or forward prefix before the notice's own prefix: a person answered or forwarded the
# notice, and wrote something we must not lose.
FORWARDED_NOTICES = [
    ("Fwd: Automatic reply: Invoice 4711", "Automatic reply: Invoice 4711"),
    ("FW: Automatische Antwort: Rechnung 4711", "Automatische Antwort: Rechnung 4711"),
    ("Fw: Automatic reply: Invoice 4711", "Automatic reply: Invoice 4711"),
    ("WG: Abwesenheitsnotiz: Rechnung 4711", "Abwesenheitsnotiz: Rechnung 4711"),
    ("Wtr: Automatische Antwort: Rechnung 4711", "Automatische Antwort: Rechnung 4711"),
    ("TR: Réponse automatique : Facture 4711", "Réponse automatique : Facture 4711"),
    ("Réf : Réponse automatique : Facture 4711", "Réponse automatique : Facture 4711"),
    ("RV: Respuesta automática: Factura 4711", "Respuesta automática: Factura 4711"),
    ("I: Risposta automatica: Fattura 4711", "Risposta automatica: Fattura 4711"),
    ("R: Risposta automatica: Fattura 4711", "Risposta automatica: Fattura 4711"),
    ("RIF: Risposta automatica: Fattura 4711", "Risposta automatica: Fattura 4711"),
    ("ENC: Resposta automática: Fatura 4711", "Resposta automática: Fatura 4711"),
    ("RES: Resposta automática: Fatura 4711", "Resposta automática: Fatura 4711"),
    ("Doorst: Automatisch antwoord: Factuur 4711", "Automatisch antwoord: Factuur 4711"),
    ("Antw: Automatisch antwoord: Factuur 4711", "Automatisch antwoord: Factuur 4711"),
    ("VB: Automatiskt svar: Faktura 4711", "Automatiskt svar: Faktura 4711"),
    ("VS: Automaattinen vastaus: Lasku 4711", "Automaattinen vastaus: Lasku 4711"),
    ("SV: Autosvar: Faktura 4711", "Autosvar: Faktura 4711"),
    ("Odp: Automatyczna odpowiedź: Faktura 4711", "Automatyczna odpowiedź: Faktura 4711"),
    ("PD: Automatyczna odpowiedź: Faktura 4711", "Automatyczna odpowiedź: Faktura 4711"),
    ("İLT: Otomatik yan\u0131t: Fatura 4711", "Otomatik yan\u0131t: Fatura 4711"),
    ("Пересл: Автоматический ответ: Счёт 4711", "Автоматический ответ: Счёт 4711"),
    ("转发: 自动回复: 发票 4711", "自动回复: 发票 4711"),
    ("転送: 自動応答: 請求書 4711", "自動応答: 請求書 4711"),
    ("Fwd: Out of Office: Re: contract", "Out of Office: Re: contract"),
    ("Re: Automatic reply: [#2] Printer on floor 3", "Automatic reply: [#2] Printer on floor 3"),
    ("RE: Automatic reply: Printer", "Automatic reply: Printer"),
    ("Re: Out of Office: Re: [#2] Printer", "Out of Office: Re: [#2] Printer"),
    ("AW: Abwesend: AW: Drucker", "Abwesend: AW: Drucker"),
    ("Re[2]: Automatic reply: Printer", "Automatic reply: Printer"),
    ("[EXTERNAL] FW: Automatic reply: Invoice 4711", "Automatic reply: Invoice 4711"),
    ("FW: [EXTERNAL] Automatic reply: Invoice 4711", "Automatic reply: Invoice 4711"),
    ("Fwd: Jane Doe is out of the office.", "Jane Doe is out of the office."),
    (
        "Re: AUTO: Jane Doe is out of the office (returning 05/01/2026)",
        "AUTO: Jane Doe is out of the office (returning 05/01/2026)",
    ),
    ("Automatic reply: Invoice 4711 (fwd)", "Automatic reply: Invoice 4711"),
    ("[Fwd: Automatic reply: Invoice 4711]", "Automatic reply: Invoice 4711"),
    (
        "[alice@customer.example: Automatic reply: Invoice 4711 and the credit note]",
        "Automatic reply: Invoice 4711",
    ),
]


@pytest.mark.parametrize(("subject", "notice"), FORWARDED_NOTICES)
def test_a_person_forwarding_or_answering_a_notice_is_a_request(subject: str, notice: str) -> None:
    assert verdict(raw_mail([f"Subject: {notice}"])).kind == "auto_reply"  # the notice itself
    result = verdict(raw_mail([f"Subject: {subject}"]))
    assert (result.kind, result.reason) == ("request", "request")
    assert result.creates_record
    assert oof_subject_reason(subject, answers_us=True) is None


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto_submitted:auto-replied"),
        ("X-Autoreply: yes", "x_autoreply"),
        ("Precedence: auto_reply", "precedence:auto_reply"),
        ("X-MS-Exchange-Inbox-Rules-Loop: helpdesk@contoso.example", "ms_oof:inbox_rules_loop"),
        ("X-Auto-Response-Suppress: OOF", "ms_oof:auto_response_suppress"),
    ],
)
def test_a_header_still_marks_a_notice_whatever_the_subject(header: str, reason: str) -> None:
    result = verdict(raw_mail(["Subject: Fwd: Automatic reply: Invoice 4711", header]))
    assert (result.kind, result.reason) == ("auto_reply", reason)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["Re", "RE", "AW", "SV", "VS", "Antw", "Réf", "RIF", "R", "Fwd", "FW",
                            "Fw", "WG", "TR", "RV", "I", "Doorst", "VB", "ENC", "Odp", "RES"]),
    notice=st.sampled_from(OOF_SUBJECTS),
    tag=st.sampled_from(["", "[EXTERNAL] "]),
)  # fmt: skip
def test_any_reply_or_forward_prefix_before_a_notice_makes_it_a_request(
    prefix: str, notice: str, tag: str
) -> None:
    assert oof_subject_reason(f"{tag}{prefix}: {notice}", answers_us=True) is None


def test_the_issue_example_through_the_contract_is_an_auto_reply_not_a_customer_reply() -> None:
    result = inbound("Out of Office: Re: [#2] Printer on floor 3")
    assert result.kind == "auto_reply" and not result.may_acknowledge


def test_an_absence_word_opening_an_answer_to_our_mail_is_an_auto_reply() -> None:
    ours = f"In-Reply-To: <ack-7@{OWN_DOMAIN}>"
    for subject in ("Out of office", "Abwesend", "Ausente - vuelvo el lunes"):
        assert verdict(raw_mail([f"Subject: {subject}", ours])).reason == ("oof_subject:answers_us")
        assert verdict(raw_mail([f"Subject: {subject}"])).kind == "request"
    # a person answering keeps the reply prefix: that is their thread, not a notice
    answer = verdict(raw_mail(["Subject: Re: Out of office: who covers?", ours]))
    assert answer.kind == "request"


def test_header_rules_keep_their_reasons() -> None:
    subject = "Subject: Automatic reply: Printer"
    assert verdict(raw_mail([subject, "Auto-Submitted: auto-replied"])).reason == (
        "auto_submitted:auto-replied"
    )
    assert verdict(raw_mail([subject, "X-Auto-Response-Suppress: All"])).reason == (
        "ms_oof:auto_response_suppress"
    )
    assert verdict(raw_mail([subject, "Return-Path: <>"])).reason == "oof_subject:null_sender"


def test_subject_rule_reads_only_the_start_of_a_huge_subject() -> None:
    assert oof_subject_reason("Re: " * 50_000 + "x", answers_us=True) is None
    assert oof_subject_reason("Automatic reply: " + "x" * 100_000, answers_us=False) == (
        "oof_subject:client_prefix"
    )


@settings(max_examples=300, deadline=None)
@given(subject=st.text(max_size=300), answers_us=st.booleans())
def test_any_subject_gets_a_decision_without_raising(subject: str, answers_us: bool) -> None:
    reason = oof_subject_reason(subject, answers_us=answers_us)
    assert reason is None or reason.startswith("oof_subject:")


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_an_ascii_subject_folds_as_the_full_normalisation_folds_it(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text)
    slow = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    assert fold(text) == slow


def test_a_subject_read_twice_gives_the_same_verdict_for_both_checks() -> None:
    subject = "Automatic reply: Printer broken"

    assert looks_like_oof(subject) is True
    assert oof_subject_reason(subject, answers_us=False) == "oof_subject:client_prefix"
    assert looks_like_oof(subject) is True
