"""Acknowledgement job ids: one per email, the same on a redelivery, and a record acknowledged
under the id acknowledgements had before (``ack:<mailbox>:<record>``) is not acknowledged again."""

from __future__ import annotations

from tests.unit.test_ticketer_handler import BOX, mail, make_rig


def test_a_redelivered_email_asks_for_the_same_acknowledgement() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    rig.ticketer.handle(mail(1))
    first, again = rig.outbox.jobs
    assert first.job_id == again.job_id and first.job_id.startswith(f"ack:{BOX}:1:")
    assert list(rig.store.acks) == [first.job_id] and list(rig.store.outbox) == [first.job_id]


def test_a_record_acknowledged_under_the_old_id_is_not_acknowledged_again() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.handle(mail(1))
    # As the store was before ack ids carried a digest: reserved and queued under the old id.
    [job] = rig.outbox.jobs
    old = f"ack:{BOX}:1"
    rig.store.acks = {old: rig.store.acks[job.job_id]}
    rig.store.outbox = {old: rig.store.outbox[job.job_id]}
    rig.outbox.jobs.clear()
    rig.ticketer.handle(mail(1))  # redelivered across the upgrade
    assert rig.outbox.jobs == [] and list(rig.store.acks) == [old]
    # A new email's record is acknowledged as usual.
    rig.ticketer.handle(mail(2))
    [new] = rig.outbox.jobs
    assert new.record_id == 2 and new.job_id.startswith(f"ack:{BOX}:2:")
