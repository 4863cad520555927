"""Real-world mail end to end: the corpus the project ships (``tests/corpora/realworld``: 175
mails from public mail-parsing test suites, their licences in its README) and the generated
worst cases (``worst_mail.py``, ``oddities.py``) go through simulator → fetcher → ticketer →
sender, on SQLite and PostgreSQL, and on both providers (Gmail on SQLite: ``HEAVY_MATRIX``).

Every mail must be accounted for exactly once — a record, an appended message, an ignored or
bounce entry, or a quarantine entry with its reason — and the inbox must end empty, with
nothing stored twice, no acknowledgement to a null sender, to Reply-To or to the mailbox's
own domain or a lookalike, no NUL stored, and the text whose charset is certain decoded
exactly. A red run lists every failing mail grouped by cause (see ``accounting.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from libs.common.msgid import canonical_message_id
from tests.e2e.accounting import Findings, Seeded, Snapshot, account, seed_all, settled
from tests.e2e.ack_checks import check_ack, check_acks, same_sender, sent_acks
from tests.e2e.harness import Stack, pipeline
from tests.e2e.realworld import corpus_samples
from tests.e2e.samples import raw_facts
from tests.e2e.text_checks import check_texts
from tests.e2e.worlds import HEAVY_MATRIX
from tests.e2e.worst_mail import worst_cases

MAILBOX = "support@contoso.com"
FAST_SENDER = {"MAILPIPE_SENDER_RATE_PER_MINUTE": "100000"}
#: Only keeps a broken run from hanging: the assertions are about outcomes, never timings.
SETTLE_DEADLINE_S = 150.0


def test_the_corpus_ships_with_labels_and_licences() -> None:
    samples = corpus_samples()
    assert len(samples) >= 100
    assert {s.name.split("/")[0] for s in samples} >= {"cpython", "sisimai", "talon"}
    assert len(worst_cases()) >= 50
    names = [s.name for s in [*samples, *worst_cases()]]
    assert len(names) == len(set(names))


def test_the_checks_catch_what_they_are_for() -> None:
    """The acknowledgement rules and the raw facts they rest on, without services: a check
    that could never fire would pass any run."""
    cases = {s.name: s for s in worst_cases()}

    def ack_findings(name: str, *recipients: str) -> set[str]:
        sample = cases[f"worst/{name}"]
        findings = Findings()
        check_ack(Seeded(sample, raw_facts(sample.raw), "gid"), list(recipients), findings)
        return set(findings.problems)

    assert ack_findings("reply-to-elsewhere", "pat@customer.example") == set()
    assert ack_findings("reply-to-elsewhere", "someone.else@elsewhere.example") == {
        "acknowledgement to Reply-To"
    }
    assert "acknowledged a null sender (Return-Path: <>)" in ack_findings(
        "null-sender", "pat@customer.example"
    )
    assert "acknowledgement to the mailbox's own domain or a lookalike" in ack_findings(
        "lookalike-sender", "support@contoso.com.evil.org"
    )
    assert "acknowledged automatic mail" in ack_findings("out-of-office-1", "pat@customer.example")
    # Raw 8-bit in an address: any reading of those bytes is the same sender, ASCII must agree.
    assert same_sender("tom\u00e1?@football.example.com", "tom\ufffd?@football.example.com")
    assert not same_sender("tim?@football.example.com", "tom\ufffd?@football.example.com")
    assert not same_sender("pat@customer.example", "pam@customer.example")
    first, second = (raw_facts(cases[f"worst/delivered-twice-{n}"].raw) for n in (1, 2))
    assert first == second
    reused = [raw_facts(cases[f"worst/reused-message-id-{n}"].raw) for n in ("first", "second")]
    assert reused[0].message_id == reused[1].message_id
    assert reused[0].copy_key != reused[1].copy_key
    assert raw_facts(cases["worst/long-message-id"].raw).message_id == canonical_message_id(
        "<" + "x" * 1490 + "@long.example>"
    )
    assert not raw_facts(cases["worst/latin1-unlabelled"].raw).clean_text
    assert raw_facts(cases["worst/charset-shift_jis"].raw).clean_text


@pytest.mark.slow
@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
def test_every_real_world_mail_is_accounted_for_exactly_once(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    samples = [*corpus_samples(), *worst_cases()]
    findings = Findings()
    with pipeline(
        tmp_path,
        amqp_url,
        mailboxes=(MAILBOX,),
        database_url=database_url,
        provider=provider,
        poll_interval_s=0.5,
        auto_acknowledge=True,
        auto_ack_per_hour=10_000,
    ) as stack:
        for service in ("fetcher", "ticketer"):
            stack.start(service)
        stack.start("sender", **FAST_SENDER)
        for name in stack.processes:
            stack.wait_ready(name)
        seeded = seed_all(stack, samples, findings)
        if not wait_for(lambda: settled(stack, seeded), SETTLE_DEADLINE_S):
            findings.add(
                "did not settle", f"inbox or outcomes still open after {SETTLE_DEADLINE_S:.0f} s"
            )
        wait_for(lambda: len(sent_acks(stack)) >= stack.count("ack_log"), 30.0)
        snap = account(stack, seeded, findings)
        check_acks(stack, seeded, snap, findings)
        check_texts(stack, seeded, snap, findings)
        server_errors(stack, findings)
        print(summary(seeded, snap, findings))
        assert not findings, findings.text() + "\n" + log_hints(stack, seeded, snap, findings)


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll until ``predicate`` holds (True) or the deadline passes (False): a run that does
    not settle still gets its full report instead of a bare time-out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def server_errors(stack: Stack, findings: Findings) -> None:
    """No content may make the simulator answer 5xx (no faults are injected here)."""
    for route, statuses in stack.stats()["requests"].items():
        for status, count in statuses.items():
            if int(status) >= 500:
                findings.add("the simulator answered 5xx", route, f"HTTP {status}, {count} times")


def summary(seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> str:
    outcomes: Counter[str] = Counter()
    for item in seeded:
        row = snap.log.get(item.message_id)
        if row is None:
            outcomes["quarantine only" if item.message_id in snap.quarantine else "none"] += 1
        else:
            outcomes[f"{row['outcome']}:{str(row['reason'] or '').split(':')[0]}"] += 1
    lines = [f"{len(seeded)} mails seeded; outcomes: {dict(sorted(outcomes.items()))}"]
    if findings.quarantined:
        lines.append(findings.text().split("quarantined, by reason:", 1)[-1].strip())
    return "\n".join(lines)


def log_hints(stack: Stack, seeded: Sequence[Seeded], snap: Snapshot, findings: Findings) -> str:
    """The services' warnings and errors that name a mail without an outcome."""
    open_ids = {s.message_id: s.sample.name for s in seeded if s.message_id not in snap.log}
    lines = []
    for service in ("fetcher", "ticketer"):
        for event in stack.log_events(service):
            if event.get("level") not in ("warning", "error", "critical"):
                continue
            text = str(event)
            named = [name for gid, name in open_ids.items() if gid in text]
            if named or not open_ids:
                lines.append(f"{service}: {', '.join(named)} {text[:300]}")
    return "log lines:\n" + "\n".join(lines[-40:]) if lines else ""
