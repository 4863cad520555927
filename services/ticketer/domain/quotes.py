"""Where the new text of a reply ends: the quote headers real mail clients write.

Plain text: Outlook's header block (From/Sent/To/Subject in the languages of its UI), the
"-----Original Message-----" separator and its translations, OWA's line of underscores, and
the "On <date>, <name> wrote:" attribution of Gmail, Apple Mail and Thunderbird in their
languages, also when wrapped over two or three lines. HTML: the quote containers of those clients
(:func:`html_quote_start`). A header only counts when something follows it, so a customer who
writes such a phrase with nothing quoted after it keeps their text.
"""

from __future__ import annotations

import html as html_lib
import re

_SPACE = r"[ \t\u00a0\u202f]"
_COLON = rf"{_SPACE}*[:\uff1a]"  # a full-width colon too (CJK clients)


def _labels(*words: str) -> str:
    """Longest first; a space in a phrase matches any run of spaces, non-breaking ones too."""
    escaped = (re.escape(w).replace(r"\ ", f"{_SPACE}+") for w in words)
    return "|".join(sorted(escaped, key=len, reverse=True))


# Outlook's reply header labels, in the languages of its UI (desktop, OWA and mobile).
_FROM = _labels(
    "from", "von", "de", "da", "van", "från", "fra", "od", "от", "差出人", "发件人", "寄件者",
    "寄件人", "kimden", "feladó", "lähettäjä", "afzender",
)  # fmt: skip
_SENT = _labels(
    "sent", "date", "gesendet", "datum", "envoyé", "enviado", "enviada", "fecha", "inviato",
    "data", "verzonden", "skickat", "sendt", "wysłano", "送信日時", "发送时间", "發送時間",
    "日期", "отправлено", "gönderildi", "lähetetty", "elküldve",
)  # fmt: skip
_TO = _labels("to", "an", "à", "para", "a", "aan", "till", "til", "do", "宛先", "收件人", "кому")
_SUBJECT = _labels(
    "subject", "betreff", "objet", "asunto", "oggetto", "onderwerp", "assunto", "ämne", "emne",
    "temat", "件名", "主题", "主旨", "тема", "konu", "tárgy", "aihe",
)  # fmt: skip


def _label_line(labels: str) -> re.Pattern[str]:
    # "*From:*" is how some clients write Outlook's bold labels in the text part.
    return re.compile(rf"^{_SPACE}*\*?(?:{labels})\*?{_COLON}\*?(?:{_SPACE}|$|(?<=\uff1a))", re.I)


_FROM_LINE = _label_line(_FROM)
_SENT_LINE = _label_line(_SENT)
_TO_LINE = _label_line(_TO)
_SUBJECT_LINE = _label_line(_SUBJECT)

_SEPARATOR = re.compile(
    rf"^{_SPACE}*(?:-{{2,}}{_SPACE}*(?:"
    + _labels(
        "original message", "ursprüngliche nachricht", "message d'origine", "mensaje original",
        "messaggio originale", "oorspronkelijk bericht", "mensagem original",
        "ursprungligt meddelande", "oprindelig meddelelse", "opprinnelig melding",
        "oryginalna wiadomość", "wiadomość oryginalna", "alkuperäinen viesti",
        "původní zpráva", "исходное сообщение", "原始邮件", "原始郵件", "元のメッセージ",
    )
    + rf"){_SPACE}*-{{2,}}|_{{10,}}){_SPACE}*$",
    re.I,
)  # fmt: skip

# "… wrote:" and its translations; a verb before the name ("Am … schrieb Helpdesk:") or after
# it ("… Helpdesk wrote:"), the line ending in a colon.
_VERBS = _labels(
    "wrote", "writes", "schrieb", "a écrit", "escribió", "ha scritto", "schreef", "escreveu",
    "skrev", "kirjoitti", "napisał(a)", "napisał", "napisała", "pisze", "írta", "yazd\u0131",
    "написал(\u0430)", "написал", "написала", "пишет",
)  # fmt: skip
_ATTRIBUTION = re.compile(
    rf"(?:^|{_SPACE})(?:{_VERBS})(?:{_SPACE}[^\n]{{0,200}})?{_COLON}"
    rf"{_SPACE}*$|(?:写道|寫道|書きました|작성){_COLON}{_SPACE}*$",
    re.I,
)
_DIGIT = re.compile(r"\d")
MAX_ATTRIBUTION = 400


def is_attribution(line: str) -> bool:
    """True for an "On <date>, <name> wrote:" line in one of the languages above."""
    line = line.strip()
    return (
        len(line) <= MAX_ATTRIBUTION
        and not line.startswith(">")
        and bool(_ATTRIBUTION.search(line))
        and names_date_or_address(line)
    )


def names_date_or_address(line: str) -> bool:
    """An attribution names an address, or opens as clients open one (On, Am, … or a date)
    and names a date: "My colleague wrote:" names neither, and in "I wrote to you on 3 May:"
    the customer introduces their own text."""
    return "@" in line or (_opens_attribution(line) and bool(_DIGIT.search(line)))


def is_outlook_block(lines: list[str], at: int) -> bool:
    """A From line at ``at`` followed, within four lines, by a Sent/Date line or, when the
    From line names an address, by both a To and a Subject line: Outlook's header block and
    its translations. Without the address, "From: John / To: IT / Subject: laptop" is a
    customer writing a form of their own."""
    if not _FROM_LINE.match(lines[at]):
        return False
    after = [line for line in lines[at + 1 : at + 6] if line.strip()][:4]
    if any(_SENT_LINE.match(line) for line in after):
        return True
    if "@" not in lines[at]:
        return False
    return any(_TO_LINE.match(x) for x in after) and any(_SUBJECT_LINE.match(x) for x in after)


def quote_start(text: str, *, quote_follows: bool = False) -> int | None:
    """The offset of the first quote header in ``text``, or ``None``. ``quote_follows``: the
    caller knows quoted text comes after ``text`` (an HTML quote container), so a header on
    the last line counts too."""
    lines = text.splitlines(keepends=True)
    offset = 0
    for at, line in enumerate(lines):
        length = _header_length(lines, at)
        if length and (quote_follows or "".join(lines[at + length :]).strip()):
            return offset
        offset += len(line)
    return None


def _header_length(lines: list[str], at: int) -> int:
    """How many lines the quote header starting at line ``at`` takes (0: none starts there)."""
    line = lines[at]
    if _SEPARATOR.match(line) or is_outlook_block(lines, at) or is_attribution(line):
        return 1
    # Clients wrap a long attribution over two or three lines.
    if not starts_attribution(line):
        return 0
    for more in (1, 2):
        rest = lines[at + 1 : at + 1 + more]
        if len(rest) < more or not continues_attribution(lines[at + more - 1], rest[-1]):
            return 0
        if is_attribution(" ".join(x.strip() for x in lines[at : at + 1 + more])):
            return 1 + more
    return 0


# How attributions begin: "On", "Am", "Le", "El", "Il giorno", "Op", "Em", "Den", "W dniu" or
# a date; or a first half that ends in the name's address ("… Helpdesk <" in Gmail's wrap).
_OPENER = re.compile(rf"^{_SPACE}*(?:on|am|le|el|il|op|em|den|w{_SPACE}+dniu|dnia)\b", re.I)
_DATE_START = re.compile(rf"^{_SPACE}*\d")


def _opens_attribution(line: str) -> bool:
    return bool(_OPENER.match(line) or _DATE_START.match(line))


def starts_attribution(line: str) -> bool:
    """Whether ``line`` may be the first half of a wrapped attribution."""
    words = line.split()
    last = words[-1] if words else ""
    return bool(_OPENER.match(line) or _DATE_START.match(line) or "@" in last or last == "<")


def continues_attribution(line: str, following: str) -> bool:
    """Whether ``following`` may continue ``line`` as one wrapped attribution: ``line`` is
    no finished sentence, and ``following`` does not open an attribution of its own."""
    line = line.strip()
    if not line or line[-1] in ".!?\u3002\uff01\uff1f" or line.startswith(">"):
        return False
    return bool(following.strip()) and not _OPENER.match(following)


# The tags that may open a quote, each scanned once (the attributes after the name, bounded,
# so hostile markup costs linear time).
_OPEN_TAG = re.compile(r"<(div|blockquote|hr)\b([^<>]*)", re.I)
_ATTR = re.compile(r"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_MAX_ATTRS = 4000
# Gmail, Thunderbird's attribution, Yahoo; Outlook (new and OWA/mobile); Yahoo's id.
_QUOTE_CLASSES = frozenset({"gmail_quote", "moz-cite-prefix", "yahoo_quoted"})
_QUOTE_IDS = ("appendonsend", "divrplyfwdmsg", "yahoo_quoted")
_TOP_BORDER = re.compile(r"border-top\s*:\s*solid", re.I)
# A rule followed by a From block is looked for after this many rules no more.
_MAX_RULES = 20
_TAG = re.compile(r"<[^<>]*>")
_BREAK = re.compile(r"<(?:br|/p|/div)\b[^<>]*>", re.I)


def html_quote_start(html: str) -> int | None:
    """The offset in ``html`` where the first quote container starts, or ``None``: Gmail's
    ``div.gmail_quote``, Thunderbird's ``div.moz-cite-prefix``, ``blockquote type=cite``
    (Apple Mail, Thunderbird), Outlook's ``div#appendonsend`` and ``div#divRplyFwdMsg``,
    Yahoo's ``yahoo_quoted``, or an ``<hr>`` or top-bordered ``div`` (Outlook desktop)
    followed by a From block."""
    rules = 0
    for tag in _OPEN_TAG.finditer(html):
        name = tag.group(1).lower()
        attrs = _attributes(tag.group(2)[:_MAX_ATTRS])
        if _is_container(name, attrs):
            return tag.start()
        if _is_rule(name, attrs) and rules < _MAX_RULES:
            rules += 1
            if _from_block_follows(html[tag.end() : tag.end() + 3000]):
                return tag.start()
    return None


def _attributes(text: str) -> dict[str, str]:
    return {m[0].lower(): m[1] or m[2] or m[3] for m in _ATTR.findall(text)}


def _is_container(name: str, attrs: dict[str, str]) -> bool:
    if name == "blockquote":
        return attrs.get("type", "").strip().lower() == "cite"
    if name != "div":
        return False
    classes = set(attrs.get("class", "").lower().split())
    return bool(classes & _QUOTE_CLASSES) or attrs.get("id", "").lower().startswith(_QUOTE_IDS)


def _is_rule(name: str, attrs: dict[str, str]) -> bool:
    return name == "hr" or (name == "div" and bool(_TOP_BORDER.search(attrs.get("style", ""))))


def _from_block_follows(fragment: str) -> bool:
    text = html_lib.unescape(_TAG.sub("", _BREAK.sub("\n", fragment)))
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and is_outlook_block(lines, 0)
