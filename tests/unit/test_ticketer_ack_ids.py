"""Acknowledgement job ids: one per email, the same on a redelivery, and a record acknowledged
under the id acknowledgements had before (``ack:<mailbox>:<record>``) is not acknowledged again."""

from __future__ import annotations

from libs.common.contracts import Address
from services.ticketer.domain.acknowledgement import ack_job_id, ack_recipient
from tests.e2e.ack_ids import ack_record_id
from tests.unit.test_ticketer_convert import email
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


def test_ack_job_ids_are_per_email_and_cannot_be_guessed_from_mailbox_and_record() -> None:
    # The same email (a redelivery) asks for the same job; without its Graph id, which only
    # the mailbox knows, nobody can name the id first.
    first = ack_job_id("Support@Contoso.com", 7, "AAMkAD-1")
    assert first == ack_job_id("support@contoso.com", 7, "AAMkAD-1")
    assert first != ack_job_id("support@contoso.com", 7, "AAMkAD-2")
    assert first.startswith("ack:support@contoso.com:7:") and len(first.rsplit(":", 1)[1]) == 32
    assert first != "ack:support@contoso.com:7"


def test_ack_recipient_is_the_from_address_only() -> None:
    others = {
        "reply_to": (Address(address="victim@elsewhere.example"),),
        "sender": Address(address="bulk@sender.example"),
    }
    assert ack_recipient(email(**others)) == Address(address="ann@customer.example")
    assert ack_recipient(email(**{"from": None}, **others)) is None


def test_the_record_of_an_acknowledgement_job_id() -> None:
    assert ack_record_id(ack_job_id("support@contoso.com", 42, "AAMk-1")) == 42
    assert ack_record_id("ack:support@contoso.com:7") == 7  # the older form
    assert ack_record_id("crm-123") is None and ack_record_id("ack:x:y:z") is None
