"""The handler's side of threads across ticketers: every unit holds its mails' thread locks,
and a request handled after its reply joins the reply's record."""

from __future__ import annotations

from libs.common.contracts import AttachmentRef, BlobRef, MailHeaders
from tests.unit.test_ticketer_handler import BOX, DELIVERY, mail, make_rig


def reply_to(n: int, parent: int) -> MailHeaders:
    return MailHeaders(
        in_reply_to=f"<m{parent}@customer.example>", references=(f"<m{parent}@customer.example>",)
    )


def test_a_batch_unit_holds_the_thread_keys_of_all_its_mails() -> None:
    rig = make_rig()
    batch = [mail(1), mail(2, conversation_id="c2", headers=reply_to(2, 1))]
    assert rig.ticketer.handle_batch([(m, DELIVERY) for m in batch]) == [None, None]
    assert rig.store.locked == [{f"{BOX} <m1@customer.example>", f"{BOX} <m2@customer.example>"}]
    assert len(rig.store.records) == 1


def test_after_a_rollback_each_mail_is_alone_in_a_unit_with_its_own_keys() -> None:
    rig = make_rig()
    missing = AttachmentRef(name="a.pdf", blob=BlobRef(sha256="b" * 64, size=3))
    batch = [mail(1), mail(2, attachments=(missing,))]
    results = rig.ticketer.handle_batch([(m, DELIVERY) for m in batch])
    assert results[0] is None and results[1] is not None
    assert rig.store.locked[1:] == [
        {f"{BOX} <m1@customer.example>"},
        {f"{BOX} <m2@customer.example>"},
    ]
    assert list(rig.store.records) == [1]


def test_a_request_handled_after_its_reply_joins_the_replys_record() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(2, conversation_id="c2", headers=reply_to(2, 1)))
    rig.ticketer.handle(mail(1))
    assert list(rig.store.records) == [1], "one record for the pair"
    assert [(p.message_id, p.outcome, p.record_id) for p in rig.outbox.processed_] == [
        ("g2", "created", 1),
        ("g1", "appended", 1),
    ]
    assert [m.internet_message_id for _, m in rig.store.messages] == [
        "<m2@customer.example>",
        "<m1@customer.example>",
    ]


def test_an_unrelated_request_still_starts_its_own_record() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(2, conversation_id="c2", headers=reply_to(2, 7)))
    rig.ticketer.handle(mail(1))
    assert sorted(rig.store.records) == [1, 2]
