"""Quoted history as real mail clients write it: where the new text of a reply ends."""

from __future__ import annotations

import pytest

from services.ticketer.domain.bodies import reply_text, strip_quoted

NEW = "Der Drucker druckt wieder nicht."

OUTLOOK_BLOCKS = {
    "en": "From: Helpdesk <helpdesk@contoso.example>\nSent: Monday, November 2, 2026 10:00 AM\n"
    "To: Alice <alice@kunde.example>\nSubject: [#42] Printer",
    "de": "Von: Helpdesk <helpdesk@contoso.example>\nGesendet: Montag, 2. November 2026 10:00\n"
    "An: Alice <alice@kunde.example>\nBetreff: [#42] Drucker",
    "fr": "De : Helpdesk <helpdesk@contoso.example>\nEnvoyé : lundi 2 novembre 2026 10:00\n"
    "À : Alice <alice@kunde.example>\nObjet : [#42] Imprimante",
    "es": "De: Helpdesk <helpdesk@contoso.example>\nEnviado: lunes, 2 de noviembre de 2026 10:00\n"
    "Para: Alice <alice@kunde.example>\nAsunto: [#42] Impresora",
    "it": "Da: Helpdesk <helpdesk@contoso.example>\nInviato: lunedì 2 novembre 2026 10:00\n"
    "A: Alice <alice@kunde.example>\nOggetto: [#42] Stampante",
    "nl": "Van: Helpdesk <helpdesk@contoso.example>\nVerzonden: maandag 2 november 2026 10:00\n"
    "Aan: Alice <alice@kunde.example>\nOnderwerp: [#42] Printer",
    "pt": "De: Helpdesk <helpdesk@contoso.example>\nEnviado: segunda-feira, 2 de novembro de 2026\n"
    "Para: Alice <alice@kunde.example>\nAssunto: [#42] Impressora",
    "sv": "Från: Helpdesk <helpdesk@contoso.example>\nSkickat: den 2 november 2026 10:00\n"
    "Till: Alice <alice@kunde.example>\nÄmne: [#42] Skrivare",
    "pl": "Od: Helpdesk <helpdesk@contoso.example>\nWysłano: poniedziałek, 2 listopada 2026 10:00\n"
    "Do: Alice <alice@kunde.example>\nTemat: [#42] Drukarka",
    "ja": "差出人: Helpdesk <helpdesk@contoso.example>\n送信日時: 2026年11月2日 10:00\n"
    "宛先: Alice <alice@kunde.example>\n件名: [#42] プリンター",
    "zh": "发件人: Helpdesk <helpdesk@contoso.example>\n发送时间: 2026年11月2日 10:00\n"
    "收件人: Alice <alice@kunde.example>\n主题: [#42] 打印机",
    "zh-fullwidth": "发件人\uff1aHelpdesk <helpdesk@contoso.example>\n"
    "发送时间\uff1a2026年11月2日 10:00\n"
    "收件人\uff1aAlice <alice@kunde.example>\n主题\uff1a[#42] 打印机",
    "outlook-mobile": "From: Helpdesk <helpdesk@contoso.example>\n"
    "Date: Monday, 2 November 2026 at 10:00\nTo: Alice <alice@kunde.example>\n"
    "Subject: [#42] Printer",
    "bold-from-html": "*From:* Helpdesk <helpdesk@contoso.example>\n*Sent:* Monday 10:00\n"
    "*To:* Alice\n*Subject:* [#42] Printer",
}


@pytest.mark.parametrize("block", OUTLOOK_BLOCKS.values(), ids=list(OUTLOOK_BLOCKS))
def test_an_outlook_header_block_in_any_language_starts_the_quote(block: str) -> None:
    crlf = block.replace("\n", "\r\n")
    text = f"{NEW}\r\n\r\n{crlf}\r\n\r\nHaben Sie ihn neu gestartet?\r\n"
    assert strip_quoted(text) == NEW
    assert strip_quoted(f"{NEW}\n\n________________________________\n{block}\n\nAlt.") == NEW


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "----- Original Message -----",
    ],
)
def test_an_original_message_separator_in_any_language_starts_the_quote(separator: str) -> None:
    assert strip_quoted(f"{NEW}\n\n{separator}\nVon: x\nalt\n") == NEW


ATTRIBUTIONS = {
    "gmail": "On Mon, 2 Nov 2026 at 10:00, Helpdesk <helpdesk@contoso.example> wrote:",
    "apple": "On 2 Nov 2026, at 10:00, Helpdesk <helpdesk@contoso.example> wrote:",
    "thunderbird": "On 02.11.26 10:00, Helpdesk wrote:",
    "de-gmail": "Am Mo., 2. Nov. 2026 um 10:00 Uhr schrieb Helpdesk <helpdesk@contoso.example>:",
    "de-thunderbird": "Am 02.11.26 um 10:00 schrieb Helpdesk:",
    "fr": "Le lun. 2 nov. 2026 à 10:00, Helpdesk <helpdesk@contoso.example> a écrit :",
    "fr-nbsp": "Le lun. 2 nov. 2026 à 10:00, Helpdesk <helpdesk@contoso.example> "
    "a\u00a0écrit\u00a0:",
    "es": "El lun, 2 nov 2026 a las 10:00, Helpdesk (<helpdesk@contoso.example>) escribió:",
    "it": "Il giorno lun 2 nov 2026 alle ore 10:00 Helpdesk <helpdesk@contoso.example> ha scritto:",
    "nl": "Op ma 2 nov. 2026 om 10:00 schreef Helpdesk <helpdesk@contoso.example>:",
    "pt": "Em seg., 2 de nov. de 2026 às 10:00, Helpdesk <helpdesk@contoso.example> escreveu:",
    "zh": "Helpdesk <helpdesk@contoso.example> 于2026年11月2日周一 10:00写道\uff1a",
    "ja": "2026年11月2日(月) 10:00 Helpdesk <helpdesk@contoso.example>に書きました:",
    "sv": "Den 2 nov. 2026 kl. 10:00 skrev Helpdesk <helpdesk@contoso.example>:",
    "pl": "W dniu 2.11.2026 o 10:00, Helpdesk pisze:",
}


@pytest.mark.parametrize("line", ATTRIBUTIONS.values(), ids=list(ATTRIBUTIONS))
def test_an_on_date_someone_wrote_line_in_any_language_starts_the_quote(line: str) -> None:
    assert strip_quoted(f"{NEW}\n\n{line}\n\n> Haben Sie ihn neu gestartet?\n") == NEW


@pytest.mark.parametrize("line", ATTRIBUTIONS.values(), ids=list(ATTRIBUTIONS))
def test_an_attribution_wrapped_over_two_lines_starts_the_quote(line: str) -> None:
    cut = line.find(" ", len(line) // 2)
    wrapped = line[:cut] + "\n" + line[cut + 1 :]
    assert strip_quoted(f"{NEW}\n\n{wrapped}\n> alt\n") == NEW


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, Nov 2, 2026 at 10:00 AM Helpdesk Team <\nhelpdesk@contoso.example> wrote:",
        "On Mon, Nov 2, 2026 at 10:00 AM Helpdesk Team of the Contoso Corporation Europe <\n"
        "helpdesk@contoso.example>\nwrote:",
        "Am Mo., 2. Nov. 2026 um 10:00 Uhr schrieb Helpdesk Team der Contoso\nEurope GmbH "
        "<helpdesk@contoso.example>:",
    ],
)
def test_gmails_wraps_inside_the_address_and_over_three_lines_start_the_quote(
    attribution: str,
) -> None:
    assert strip_quoted(f"{NEW}\n\n{attribution}\n\n> alt\n") == NEW


@pytest.mark.parametrize(
    "last_line", ["Printer 4 still jams", "On Monday it jammed twice", "Call me on 0171 555"]
)
def test_the_customers_last_line_before_an_attribution_is_not_taken_for_its_first_half(
    last_line: str,
) -> None:
    text = f"{last_line}\nOn Mon, 2 Nov 2026 at 10:00, Helpdesk <h@contoso.example> wrote:\n> x"
    assert strip_quoted(text) == last_line


@pytest.mark.parametrize(
    "text",
    [
        "Gestern hat mir Ihr Kollege geschrieben. On Monday, Bob wrote: restart it.\nNo luck.",
        "As the From: line said, Sent: from my phone.\nIt fails again.",
        "Please check.\n\nOn Mon, 2 Nov 2026 at 10:00, the technician wrote:\n",
        "Please check.\n\n-----Original Message-----\n",
        "The report reads:\nFrom: the third floor\nthe printer jams.",
    ],
)
def test_a_quote_phrase_in_the_customers_own_text_with_nothing_quoted_after_is_kept(
    text: str,
) -> None:
    assert strip_quoted(text) == text.strip()


def test_when_everything_looks_quoted_the_whole_text_is_kept() -> None:
    text = "On Mon, 2 Nov 2026 at 10:00, Helpdesk <h@contoso.example> wrote:\n> Restarted?\n"
    assert strip_quoted(text) == text.strip()
    outlook = OUTLOOK_BLOCKS["de"] + "\n\nAlt."
    assert strip_quoted(outlook) == outlook


HTML_REPLIES = {
    "gmail": '<div dir="ltr">{new}</div><br><div class="gmail_quote gmail_quote_container">'
    '<div dir="ltr" class="gmail_attr">On Mon, 2 Nov 2026 at 10:00 Helpdesk &lt;h@c.example&gt;'
    ' wrote:<br></div><blockquote class="gmail_quote">Restarted?</blockquote></div>',
    "apple": "<html><body><div>{new}</div><div><br><blockquote type=cite><div>On 2 Nov 2026, "
    "at 10:00, Helpdesk wrote:</div><div>Restarted?</div></blockquote></div></body></html>",
    "apple-attribution-outside": "<div>{new}</div><div><br></div><div>On 2 Nov 2026, at "
    '10:00, Helpdesk &lt;h@c.example&gt; wrote:</div><blockquote type="cite">Restarted?'
    "</blockquote>",
    "thunderbird": '<p>{new}</p><div class="moz-cite-prefix">Am 02.11.26 um 10:00 schrieb '
    'Helpdesk:<br></div><blockquote type="cite" cite="mid:r@c.example">Neu gestartet?'
    "</blockquote>",
    "outlook-new": '<div dir="ltr">{new}</div><div id="appendonsend"></div><hr '
    'style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
    "<b>From:</b> Helpdesk<br><b>Sent:</b> Monday 10:00<br><b>To:</b> Alice<br>"
    "<b>Subject:</b> [#42] Printer</div><div>Restarted?</div>",
    "owa-mobile": '<div>{new}</div><div id="divRplyFwdMsg"><font><b>Von:</b> Helpdesk<br>'
    "<b>Gesendet:</b> Montag<br><b>Betreff:</b> [#42] Drucker</font></div><div>Alt?</div>",
    "hr-then-from": "<p>{new}</p><hr><p><b>De :</b> Helpdesk<br><b>Envoyé :</b> lundi<br>"
    "<b>À :</b> Alice<br><b>Objet :</b> [#42]</p><p>Ancien</p>",
    "yahoo": '<div>{new}</div><div id="yahoo_quoted_1234" class="yahoo_quoted"><div>On '
    "Monday, 2 November 2026, 10:00, Helpdesk wrote:</div><div>Restarted?</div></div>",
    "outlook-desktop": '<div class="WordSection1"><p class="MsoNormal">{new}</p><div><div '
    'style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p '
    'class="MsoNormal"><b>From:</b> Helpdesk &lt;h@c.example&gt;<br><b>Sent:</b> Monday, '
    "November 2, 2026 10:00 AM<br><b>To:</b> Alice<br><b>Subject:</b> [#42] Printer</p></div>"
    '</div><p class="MsoNormal">Restarted?</p></div>',
}


@pytest.mark.parametrize("html", HTML_REPLIES.values(), ids=list(HTML_REPLIES))
def test_the_quote_markers_of_html_replies_start_the_quote(html: str) -> None:
    assert reply_text(None, html.format(new=NEW)) == NEW


def test_a_plain_blockquote_in_the_customers_html_is_kept() -> None:
    html = "<p>The manual says:</p><blockquote>Press reset.</blockquote><p>It did not help.</p>"
    text = reply_text(None, html)
    assert "Press reset." in text and "It did not help." in text


def test_an_html_reply_that_is_all_quote_keeps_everything() -> None:
    html = '<div class="gmail_quote"><div class="gmail_attr">On Mon, X wrote:</div>old</div>'
    assert "old" in reply_text(None, html)


def test_the_text_part_is_preferred_when_there_is_one() -> None:
    text = f"{NEW}\n\nOn Mon, 2 Nov 2026 at 10:00, Helpdesk wrote:\n> alt\n"
    assert reply_text(text, "<p>other</p>") == NEW


def test_hostile_markup_still_finds_the_quote_that_follows_it() -> None:
    """Thousands of unclosed tags and rules without a From block before the real quote."""
    junk = "<div " * 5000 + "<hr>" * 5000 + "<blockquote " * 5000
    html = f"<p>{NEW}</p>{junk}>" + '<div class="gmail_quote">On Mon, X wrote: old</div>'
    assert reply_text(None, html).startswith(NEW)
    assert "old" not in reply_text(None, html)


@pytest.mark.parametrize(
    "text",
    [
        "Hi team,\nI wrote to you on 3 May:\nthe printer is still broken.\nBest, Ann",
        "Hi,\nas I wrote on 12.05.:\nVPN fails with error 809.",
        "Hallo,\nwie ich am 3. Mai schrieb:\nder Drucker ist kaputt.",
    ],
)
def test_a_customer_introducing_their_own_earlier_words_keeps_them(text: str) -> None:
    """A "wrote" line with a date but no address, not opening as clients open an
    attribution, is the customer's sentence: what follows it is their new text."""
    assert strip_quoted(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Hello,\nFrom: John Smith\nTo: IT support\nSubject: new laptop\nI need a new laptop.",
        "Room please:\n\nFrom: 10:00\nTo: 11:00\nSubject: weekly sync\n\nFor six people.",
        "Wniosek:\nOd: Jan Kowalski\nDo: Kadry\nTemat: urlop\nProszę o urlop w piątek.",
    ],
)
def test_a_customers_own_from_to_subject_form_is_not_a_quote(text: str) -> None:
    assert strip_quoted(text) == text.strip()
