"""A realistic, reproducible mix of inbound mail for the benchmark: plain data, no I/O.

Most helpdesk mail is short plain text; some is HTML from mail clients with quoted history;
a few carry attachments (screenshots, PDFs). Every mail is a new request (unique subject and
Message-ID, no thread headers) so that each one must yield exactly one record.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

#: Vocabulary of the generated text (a helpdesk's usual subjects).
VOCABULARY = (
    "printer laptop password reset vpn access email outlook calendar invoice account locked "
    "screen monitor keyboard network slow error update install licence teams phone badge "
    "please help urgent thanks again since yesterday morning cannot open the shared drive"
)
WORDS = tuple(VOCABULARY.split())
NAMES = ("Alice Martin", "Bob Chen", "Chloé Dubois", "Dmitri Ivanov", "Eva Nowak", "Farid Haddad")

#: (share of mail, kind): text is the bulk; html and attachments the tail.
MIX = ((0.70, "text"), (0.22, "html"), (0.08, "attachment"))


@dataclass(frozen=True)
class BenchMail:
    raw: bytes
    message_id: str
    #: Bytes of this mail that travel on the broker (attachments go to the blob store).
    broker_bytes: int


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[:1].upper() + text[1:] + "."


def _paragraphs(rng: random.Random, approx_bytes: int) -> str:
    out: list[str] = []
    while sum(len(p) for p in out) < approx_bytes:
        out.append(" ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(rng.randint(2, 5))))
    return "\n\n".join(out)


def _kind(rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for share, kind in MIX:
        acc += share
        if roll < acc:
            return kind
    return MIX[-1][1]


def make_mail(n: int, mailbox: str, rng: random.Random) -> BenchMail:
    """Mail number ``n`` to ``mailbox``: a new request from one of a few requesters."""
    name = rng.choice(NAMES)
    local = name.lower().replace(" ", ".").replace("é", "e")
    msg = EmailMessage()
    msg["From"] = f"{name} <{local}@example.org>"
    msg["To"] = mailbox
    msg["Subject"] = f"[bench {n}] {_sentence(rng, rng.randint(3, 8))}"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=f"bench{n}", domain="example.org")
    kind = _kind(rng)
    text = _paragraphs(rng, rng.choice((300, 800, 1500, 3000)))
    msg.set_content(text)
    if kind in ("html", "attachment"):
        paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        quoted = f"<blockquote>{_paragraphs(rng, rng.choice((2000, 6000, 12000)))}</blockquote>"
        msg.add_alternative(f"<html><body>{paras}{quoted}</body></html>", subtype="html")
    broker_bytes = len(msg.as_bytes())
    if kind == "attachment":
        size = rng.choice((20_000, 60_000, 150_000))
        data = rng.randbytes(size)
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"doc{n}.pdf")
    return BenchMail(msg.as_bytes(), str(msg["Message-ID"]), broker_bytes)


def make_corpus(count: int, mailboxes: list[str], seed: int = 6) -> list[tuple[str, BenchMail]]:
    """``count`` mails spread round-robin over ``mailboxes``: (mailbox, mail) pairs."""
    rng = random.Random(seed)
    boxes = [mailboxes[n % len(mailboxes)] for n in range(count)]
    return [(box, make_mail(n, box, rng)) for n, box in enumerate(boxes)]
