"""Three ticketers on one queue, every mail delivered twice: one record per thread, no more."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from libs.common.contracts import MailHeaders
from services.ticketer.domain.acknowledgement import ack_job_id
from tests.integration.test_ticketer_rig import mail, make_rig

__all__ = ["make_rig"]  # the fixture, imported for pytest

THREADS = 100


def test_three_ticketers_make_no_duplicate_records(make_rig: Any) -> None:
    rig = make_rig(ticketers=3, auto_acknowledge=True)
    originals = [mail(n) for n in range(THREADS)]
    # Every mail twice, the copies far apart in the queue: different ticketers get them.
    rig.send(*originals, *originals)
    rig.processed(2 * THREADS)
    replies = [
        mail(
            1000 + n,
            subject=f"Re: Printer {n} is broken",
            conversation_id=f"reply-conv-{n}",
            headers=MailHeaders(in_reply_to=f"<m{n}@customer.example>"),
        )
        for n in range(THREADS)
    ]
    rig.send(*replies, *reversed(replies))
    done = rig.processed(4 * THREADS)
    assert len(done) == 4 * THREADS

    outcomes: dict[str, set[tuple[str, int | None]]] = defaultdict(set)
    for p in done:
        outcomes[p.message_id].add((p.outcome, p.record_id))
    assert len(outcomes) == 2 * THREADS
    assert all(len(seen) == 1 for seen in outcomes.values()), "one outcome per email"

    summaries = rig.store.list_records()
    assert len(summaries) == THREADS
    assert sorted(s.message_count for s in summaries) == [2] * THREADS
    by_record = {s.id: s for s in summaries}
    for n in range(THREADS):
        [(created, record_id)] = outcomes[f"AAMk-{n}="]
        [(appended, reply_record)] = outcomes[f"AAMk-{1000 + n}="]
        assert (created, appended) == ("created", "appended")
        assert reply_record == record_id and record_id in by_record
    jobs = rig.jobs()
    # Each acknowledgement's id names its record and (by digest) the email that made it.
    message_ids = {next(iter(outcomes[f"AAMk-{n}="]))[1]: f"AAMk-{n}=" for n in range(THREADS)}
    assert {j.job_id for j in jobs} == {
        ack_job_id("support@contoso.com", r, message_ids[r]) for r in by_record
    }
