"""Out-of-office notices recognised by their subject alone (docs/classification.md).

Most auto-replies carry a header that says so (``Auto-Submitted``, ``X-Autoreply``, an
Exchange marker); these rules are for the ones that do not. The subject is read as a chain of
leading items — reply/forward prefixes (``Re:``, ``AW:``, ``SV:`` …), tags (``[EXTERNAL]``,
``[#12]``) and auto-reply prefixes — followed by the rest, the quoted original subject.

Only what *opens* the subject counts (after bracket tags a gateway may add, ``[EXTERNAL]``): a
reply or forward prefix before a notice's prefix (``Fwd: Automatic reply: …``,
``Re: Out of Office: …``, ``WG: Abwesenheitsnotiz: …``) means a person answered or forwarded a
notice, and what they wrote is a request. Losing it is as bad as answering an auto-reply, and
responders do not prefix their notices with ``Re:``.

- A **client prefix** ("Automatic reply:", "Automatische Antwort:", "Réponse automatique :",
  "Auto-Reply:", "Abwesenheitsnotiz:" …) opening the subject suffices: mail programs write
  these, people do not start their own subjects with them.
- An **absence word** ("Out of Office", "Absence", "Ausente", "Fuori sede", "Away" …) is what a
  person may well write ("Out of office: who covers the printer?"), so it counts only when the
  subject visibly quotes another one after it (a reply prefix or a ticket tag follows:
  "Out of Office: Re: [#2] Printer"), or when it opens the subject of a mail that answers one
  of ours (In-Reply-To/References in our Message-ID domain): a person answering keeps "Re:".
- A **notice sentence**, the whole subject: "Jane Doe is out of the office." (Lotus Notes,
  optionally "(returning …)"), and its usual translations.

Matching is case-, accent- and width-insensitive (NFKD, marks dropped, casefolded).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from libs.common.subject_prefix import COUNT, REPLY_WORDS


def fold(text: str) -> str:
    """Case-, accent- and width-insensitive form: ``Réponse`` and ``REPONSE`` fold alike."""
    if text.isascii():  # NFKD leaves ASCII as it is, and ASCII has no combining marks
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    # Turkish: a dotted capital I folds to "i" through NFKD, but the dotless small i (U+0131)
    # has no decomposition, so "YANIT" and "yan\u0131t" would differ; it is read as "i", as
    # an ASCII-typed subject writes it.
    return folded.replace("\u0131", "i")


def _alternation(phrases: tuple[str, ...]) -> str:
    # Longest first, so that "out of office autoreply" wins over "out of office".
    folded = sorted({fold(p) for p in phrases}, key=len, reverse=True)
    # A space in a phrase also matches a hyphen, an underscore or nothing: "Auto-Reply",
    # "Auto Reply" and "AutoReply" are one prefix.
    return "|".join(re.escape(p).replace(r"\ ", r"[\s\-_]*") for p in folded)


#: Prefixes mail programs put before the original subject of an automatic answer.
CLIENT_PREFIXES = (
    # Microsoft Outlook / Exchange, in the languages of its UI
    "Automatic reply",
    "Automatische Antwort",
    "Réponse automatique",
    "Respuesta automática",
    "Risposta automatica",
    "Resposta automática",
    "Automatisch antwoord",
    "Autosvar",
    "Automatisk svar",
    "Automatiskt svar",
    "Automaattinen vastaus",
    "Automaatne vastus",
    "Automātiskā atbilde",
    "Automatinis atsakymas",
    "Sjálfvirkt svar",
    "Automatyczna odpowiedź",
    "Automatická odpověď",
    "Automatická odpoveď",
    "Automatikus válasz",
    "Otomatik yan\u0131t",  # dotless i
    "Otomatik cevap",
    "Automatski odgovor",
    "Samodejni odgovor",
    "Răspuns automat",
    "Resposta automàtica",
    "Автоматический ответ",
    "Автоответ",
    "Автоматична відповідь",
    "Автоматичен отговор",
    "Αυτόματη απάντηση",
    "תשובה אוטומטית",
    "رد تلقائي",
    "Trả lời tự động",
    "Balasan otomatis",
    "ตอบกลับอัตโนมัติ",
    "自動回覆",
    "自动回复",
    "自動応答",
    "自動返信",
    "자동 회신",
    "자동 응답",
    "Out of Office Auto Reply",
    "Out of Office Reply",
    # Apple Mail / iCloud, Thunderbird filters, Zimbra, generic responders
    "Auto Reply",  # also "Auto-Reply" and "AutoReply" (see _alternation)
    "Auto Response",
    "Automatic Response",
    "Auto Antwort",
    "Abwesenheitsnotiz",
    "Abwesenheitsnachricht",
    "Abwesenheitsmeldung",
    "Afwezigheidsmelding",
    "Afwezigheidsbericht",
    "Notification d'absence",
    "Message d'absence",
    "Mensaje de ausencia",
    "Aviso de ausencia",
    "Messaggio di assenza",
    "Notifica di assenza",
    "Mensagem de ausência",
    "Aviso de ausência",
)

#: Words of absence that people also write in subjects of their own.
ABSENCE_WORDS = (
    "Out of Office",
    "Out of the Office",
    "OOO",
    "OOF",
    "Away",
    "Away from the office",
    "Away from my desk",
    "Absent",
    "Absence",
    "Absent du bureau",
    "En congé",
    "Congés",
    "Abwesend",
    "Abwesenheit",
    "Nicht im Büro",
    "Außer Haus",
    "Urlaub",
    "Im Urlaub",
    "Ausente",
    "Fuera de la oficina",
    "Fuera de oficina",
    "Vacaciones",
    "De vacaciones",
    "Afwezig",
    "Niet aanwezig",
    "Niet op kantoor",
    "Vakantie",
    "Met vakantie",
    "Fuori sede",
    "Fuori ufficio",
    "Assente",
    "In ferie",
    "Ausência",
    "Fora do escritório",
    "Férias",
    "De férias",
    "Vacation",
    "On vacation",
    "On leave",
    "On holiday",
    "Holiday",
    "Annual leave",
    "Auto",  # Lotus Notes: "AUTO: Jane Doe is out of the office (returning …)"
    "不在",
)

# A fullwidth colon folds to ":" (NFKD).
_COLON = r"\s*:"
_REPLY = re.compile(rf"(?:{_alternation(REPLY_WORDS)}){COUNT}{_COLON}\s*")
_TAG = re.compile(r"\[[^\[\]]{1,40}\]\s*")
#: A tag with a digit, as a ticket token is: the subject quotes a system's subject.
_TICKET_TAG = re.compile(r"\[[^\[\]]*\d[^\[\]]*\]")
_CLIENT = re.compile(rf"(?:{_alternation(CLIENT_PREFIXES)}){_COLON}\s*")
# An absence word ends at a separator or the end of the subject, never inside a phrase
# ("Vacation days question" is a question about vacation days).
_ABSENCE = re.compile(rf"(?:{_alternation(ABSENCE_WORDS)})(?:{_COLON}|\s+[-\u2013\u2014|]|\s*$)\s*")
_SENTENCE = re.compile(
    r"^[^:?!\d]{1,80}?\s(?:is|will be) out of (?:the )?office"
    r"|^[^:?!\d]{1,80}?\s(?:ist|is) (?:ausser haus|nicht im buro|abwesend|afwezig)"
    r"|^[^:?!\d]{1,80}?\s(?:est|sera) absente?(?: du bureau)?"
    r"|^[^:?!\d]{1,80}?\s(?:esta) (?:fuera de la oficina|ausente|fora do escritorio)"
    r"|^[^:?!\d]{1,80}?\s(?:e) (?:fuori (?:ufficio|sede)|assente)"
)
_OUT_OF_OFFICE = re.compile(r"\b(?:is|will be) out of (?:the )?office\b")
# After the sentence: nothing, a full stop, or a parenthesis ("(returning 05/01/2026)").
_SENTENCE_END = re.compile(r"\s*\.?\s*(?:\([^()]*\)\s*\.?)?\s*$")


#: Pine's and some web mailers' mark of a forward, at the end of the subject.
_FORWARD_SUFFIX = re.compile(r"\((?:fwd|fw)\)\s*$")

#: Longer subjects are read up to here: the prefixes that matter are at the start.
_MAX_SUBJECT = 1000


@dataclass(frozen=True)
class _Item:
    kind: str  # "reply", "tag", "client", "absence"
    text: str


def oof_subject_reason(subject: str, *, answers_us: bool) -> str | None:
    """``oof_subject:<rule>`` when the subject alone marks an out-of-office notice.

    ``answers_us``: the mail's In-Reply-To or References name a Message-ID of ours.
    """
    folded, items, rest = _read(subject)
    if _FORWARD_SUFFIX.search(folded):
        return None  # "Automatic reply: Invoice (fwd)": a person forwarded the notice
    # Only what opens the subject counts: a reply or forward prefix before it means a person
    # answered or forwarded a notice, and that person's request must not be lost.
    opening = next((k for k, item in enumerate(items) if item.kind == "reply"), len(items))
    if any(item.kind == "client" for item in items[:opening]):
        return "oof_subject:client_prefix"
    for index, item in enumerate(items[:opening]):
        if item.kind != "absence":
            continue
        after = items[index + 1 :]
        if any(a.kind == "reply" or _TICKET_TAG.match(a.text) for a in after):
            return "oof_subject:quotes_subject"
        if answers_us and all(i.kind == "tag" for i in items[:index]):
            return "oof_subject:answers_us"
    if opening == len(items) and _is_notice_sentence(rest):
        return "oof_subject:notice_sentence"
    return None


def looks_like_oof(subject: str) -> bool:
    """Any out-of-office form, ambiguous ones included: for use together with a marker.

    An absence word counts only where it opens the subject: "Re: Out of office: …" is a
    person's answer in a thread of that name, marker or not.
    """
    _, items, rest = _read(subject)
    if any(item.kind == "client" for item in items):
        return True
    first = next((item for item in items if item.kind != "tag"), None)
    if first is not None and first.kind == "absence":
        return True
    return _is_notice_sentence(rest) or bool(_OUT_OF_OFFICE.search(rest))


@lru_cache(maxsize=256)
def _read(subject: str) -> tuple[str, tuple[_Item, ...], str]:
    """The folded subject, its leading items and what follows them. Classifying a mail reads
    its subject here twice (Microsoft's markers, then the subject rules): once is enough."""
    folded = fold(subject[:_MAX_SUBJECT])
    items, rest = _chain(folded)
    return folded, tuple(items), rest


def _chain(folded: str) -> tuple[list[_Item], str]:
    """The leading items of a folded subject, and what follows them."""
    items: list[_Item] = []
    rest = folded.strip()
    while rest and len(items) < 50:
        for kind, pattern in (
            ("client", _CLIENT),
            ("reply", _REPLY),
            ("tag", _TAG),
            ("absence", _ABSENCE),
        ):
            match = pattern.match(rest)
            if match and match.end() > 0:
                items.append(_Item(kind, match.group(0)))
                rest = rest[match.end() :]
                break
        else:
            break
    return items, rest


@lru_cache(maxsize=256)
def _is_notice_sentence(rest: str) -> bool:
    match = _SENTENCE.match(rest)
    return bool(match and _SENTENCE_END.fullmatch(rest[match.end() :]))
