"""The mixes of mail the end-to-end tests seed, and the check of what became of each mail.

A scenario runs in two waves, because answers need what the first wave produced: the record
ids (for the token in a reply's subject) and the Message-IDs of the acknowledgements the
sender sent (for replies, out-of-office answers and bounces of our own mail).

:func:`check_outcomes` compares the database with every mail's :class:`~tests.e2e.corpus.Expect`
and returns a list of problems (empty: all as expected) and counts per kind for the report.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.e2e.ack_ids import ack_record_id
from tests.e2e.corpus import Corpus, Mail
from tests.e2e.harness import Stack

REQUEST_VARIANTS = ("plain", "html", "non_ascii", "attachment", "inline", "cc_thread")


@dataclass(frozen=True)
class Seeded:
    mail: Mail
    message_id: str


def seed(stack: Stack, mails: Iterable[Mail]) -> list[Seeded]:
    return [Seeded(m, stack.seed(m.raw, m.mailbox)) for m in mails]


def first_wave(corpus: Corpus, requests: int, *, extras: bool = True) -> list[Mail]:
    """``requests`` new requests over the mailboxes and variants, plus (``extras``) loops,
    unthreaded out-of-office answers and bounces of mail we never sent: about 1.3 times requests."""
    boxes = itertools.cycle(corpus.mailboxes)
    variants = itertools.cycle(REQUEST_VARIANTS)
    mails = [corpus.request(next(boxes), next(variants)) for _ in range(requests)]
    if extras:
        loops = itertools.cycle(("self", "header", "message_id"))
        mails += [corpus.loop(next(boxes), next(loops)) for _ in range(requests // 7)]
        styles = itertools.cycle(("exchange", "rfc3834"))
        mails += [corpus.auto_reply(None, None, next(styles)) for _ in range(requests // 10)]
        mails += [corpus.bounce(None, None) for _ in range(requests // 20)]
    corpus.rng.shuffle(mails)
    return mails


def second_wave(
    corpus: Corpus,
    requests: Sequence[Mail],
    record_of: Mapping[str, int],
    ack_of: Mapping[str, str],
    share: float = 1.0,
) -> list[Mail]:
    """Answers to the first wave's requests: about ``share`` times len(requests) mails.

    Every request gets at most one answer, in rotation: a reply by token, by In-Reply-To to our
    acknowledgement (when one was sent) or to the request, by conversation (``cc_thread``
    requests), an out-of-office answer to our acknowledgement (both styles), a bounce of it.
    """
    mails: list[Mail] = []
    kinds = itertools.cycle(("token", "ack_reply", "request_reply", "oof", "bounce", "token"))
    chosen = corpus.rng.sample(list(requests), int(len(requests) * share))
    for n, request in enumerate(chosen):
        ack = ack_of.get(request.key)
        if "cc_thread" in request.key:
            mails.append(corpus.reply_by_conversation(request))
            continue
        kind = next(kinds)
        if kind == "token":
            mails.append(corpus.reply_by_token(request, record_of[request.key]))
        elif kind == "ack_reply" and ack:
            mails.append(corpus.reply_by_in_reply_to(request, ack))
        elif kind == "oof" and ack:
            style = "exchange" if n % 2 else "rfc3834"
            mails.append(corpus.auto_reply(request, ack, style))
        elif kind == "bounce" and ack:
            mails.append(corpus.bounce(request, ack))
        else:
            mails.append(corpus.reply_by_in_reply_to(request, request.message_id))
    loops = itertools.cycle(("self", "header", "message_id"))
    mails += [corpus.loop(m, next(loops)) for m in corpus.mailboxes]
    corpus.rng.shuffle(mails)
    return mails


def _mid(value: str | None) -> str:
    return (value or "").strip().lower()


def acks_sent(stack: Stack) -> dict[int, str]:
    """Record id → Message-ID of the acknowledgement the sender sent for it (every mailbox)."""
    found: dict[int, str] = {}
    for box in stack.mailboxes:
        for entry in stack.sent(box):
            job = str(entry["headers"].get("X-Mailpipe-Job-Id", ""))
            if job.startswith("ack:"):
                record = ack_record_id(job)
                assert record is not None, job
                found[record] = str(entry["internet_message_id"])
    return found


@dataclass
class Outcomes:
    problems: list[str]
    kinds: Counter[str]
    record_of: dict[str, int]


def check_outcomes(stack: Stack, seeded: Sequence[Seeded]) -> Outcomes:
    """Every seeded mail has its one expected outcome; no record is made twice."""
    log = stack.processed_log()
    messages = [m for m in stack.rows("record_messages") if m["direction"] == "in"]
    stored = {(m["mailbox"], _mid(m["internet_message_id"])): m for m in messages}
    problems: list[str] = []
    kinds: Counter[str] = Counter()
    record_of: dict[str, int] = {}
    ordered = sorted(seeded, key=lambda s: s.mail.expect.outcome != "created")
    for item in ordered:
        mail, expect = item.mail, item.mail.expect
        row = log.get((mail.mailbox, item.message_id))
        if row is None:
            problems.append(f"{mail.key}: no processed_log entry (lost)")
            continue
        kinds[expect.kind or f"ignored:{expect.reason}"] += 1
        problem = _check_one(mail, row, stored, record_of)
        if problem:
            problems.append(f"{mail.key}: {problem}")
    records = stack.rows("records")
    requests = sum(1 for s in seeded if s.mail.expect.outcome == "created")
    if len(records) != requests:
        problems.append(f"{len(records)} records for {requests} requests")
    if len(set(record_of.values())) != len(record_of):
        problems.append("two requests share one record")
    return Outcomes(problems, kinds, record_of)


def _check_one(
    mail: Mail,
    row: Mapping[str, Any],
    stored: Mapping[tuple[str, str], Mapping[str, Any]],
    record_of: dict[str, int],
) -> str | None:
    expect = mail.expect
    if row["outcome"] != expect.outcome:
        return f"outcome {row['outcome']} ({row['reason']}), expected {expect.outcome}"
    if expect.outcome == "ignored":
        reason = str(row["reason"] or "").split(":")[0]
        return None if reason == expect.reason else f"reason {row['reason']!r}"
    message = stored.get((mail.mailbox, _mid(mail.message_id)))
    if message is None or message["record_id"] != row["record_id"]:
        return "not stored on the record its outcome names"
    if message["kind"] != expect.kind:
        return f"stored as {message['kind']}, expected {expect.kind}"
    if expect.outcome == "created":
        record_of[mail.key] = int(row["record_id"])
        return None
    want = record_of.get(str(expect.thread))
    if row["record_id"] != want:
        return f"on record {row['record_id']}, expected {want} ({expect.thread})"
    return None


def wait_processed(stack: Stack, seeded: Sequence[Seeded], timeout_s: float = 300.0) -> None:
    stack.wait_until(
        lambda: (
            len(stack.processed_log()) >= len(seeded)
            and all(stack.folders(box).get("inbox", 0) == 0 for box in stack.mailboxes)
        ),
        timeout_s=timeout_s,
        what=f"{len(seeded)} mails processed and the inboxes empty",
    )


def outbound_count(stack: Stack) -> int:
    return sum(1 for m in stack.rows("record_messages") if m["direction"] == "out")


def run_two_waves(
    stack: Stack, corpus: Corpus, requests: int, timeout_s: float = 300.0
) -> tuple[list[Seeded], Outcomes, int]:
    """Seed the first wave, wait for its records and acknowledgements (fetcher, ticketer and
    sender must run, with ``auto_acknowledge``), seed the answers and wait for them.

    Returns every seeded mail, the checked outcomes and the number of new requests (both waves).
    """
    wave1 = first_wave(corpus, requests)
    created = [m for m in wave1 if m.expect.outcome == "created"]
    seeded = seed(stack, wave1)
    wait_processed(stack, seeded, timeout_s)
    # Acknowledgements sent and stored on their records: answers to them can thread.
    stack.wait_until(
        lambda: outbound_count(stack) == len(created), timeout_s=timeout_s, what="acks recorded"
    )
    first = check_outcomes(stack, seeded)
    assert not first.problems, problems_text(first.problems)
    acks = acks_sent(stack)
    ack_of = {key: acks[record] for key, record in first.record_of.items()}
    wave2 = second_wave(corpus, created, first.record_of, ack_of)
    seeded += seed(stack, wave2)
    wait_processed(stack, seeded, timeout_s)
    requests = len(created) + sum(1 for m in wave2 if m.expect.outcome == "created")
    stack.wait_until(
        lambda: outbound_count(stack) == requests, timeout_s=timeout_s, what="acks recorded"
    )
    return seeded, check_outcomes(stack, seeded), requests


def deleted_before_processed(stack: Stack, seeded: Sequence[Seeded]) -> list[str]:
    """Mail that left the inbox before its outcome was written (both clocks are this host's)."""
    log = stack.processed_log()
    found = []
    for box in stack.mailboxes:
        removed = stack.removals("inbox", box)
        for item in (s for s in seeded if s.mail.mailbox == box):
            row = log.get((box, item.message_id))
            at = removed.get(item.message_id)
            if at is not None and (row is None or at < row["processed_at"].timestamp()):
                found.append(f"{item.mail.key} left the inbox before its outcome was written")
    return found


def problems_text(problems: Sequence[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:25])
