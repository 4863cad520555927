"""Thread keys (pure) and the lock ids the store takes for them: what two mails of one thread
share, and an order every batch locks in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.common.contracts import Address, InboundEmail, MailHeaders
from services.ticketer.domain.threadkeys import batch_thread_keys, thread_keys
from services.ticketer.store.threadlocks import lock_id, lock_ids

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BOX = "help@contoso.com"


def email(mid: str | None, **headers: Any) -> InboundEmail:
    return InboundEmail.model_validate(
        {
            "mailbox": "Help@Contoso.com",
            "message_id": f"AAMk-{mid}",
            "provider": "microsoft",
            "internet_message_id": mid,
            "received_at": NOW,
            "fetched_at": NOW,
            "from": Address(address="ann@customer.example"),
            "subject": "Printer",
            "headers": MailHeaders(**headers),
        }
    )


def test_a_request_is_keyed_by_its_own_message_id_in_its_mailbox() -> None:
    assert thread_keys(email("<r@x>")) == {f"{BOX} <r@x>"}


def test_a_reply_shares_its_parent_and_the_threads_root() -> None:
    reply = email("<p2@x>", in_reply_to="<p1@x>", references=("<r@x>", "<p1@x>"))
    assert thread_keys(reply) == {f"{BOX} <p2@x>", f"{BOX} <p1@x>", f"{BOX} <r@x>"}
    request, first = email("<r@x>"), email("<p1@x>", in_reply_to="<r@x>")
    assert thread_keys(request) & thread_keys(first) == {f"{BOX} <r@x>"}
    assert thread_keys(first) & thread_keys(reply)


def test_ids_are_read_as_threading_reads_them() -> None:
    """Brackets, comments and white space do not make another key; every In-Reply-To id counts."""
    odd = email(" r@x ", in_reply_to="<a@x> (sent by X) <b@x>")
    assert thread_keys(odd) == {f"{BOX} <r@x>", f"{BOX} <a@x>", f"{BOX} <b@x>"}
    assert thread_keys(email("<r@x>")) == thread_keys(email("r@x"))


def test_a_mail_without_ids_has_no_keys_and_a_batch_has_each_key_once() -> None:
    assert thread_keys(email(None)) == frozenset()
    both = batch_thread_keys([email("<r@x>"), email("<p@x>", in_reply_to="<r@x>")])
    assert both == {f"{BOX} <r@x>", f"{BOX} <p@x>"}


def test_lock_ids_are_stable_signed_64_bit_once_each_and_ascending() -> None:
    # The first 8 bytes of sha256("a"): the same in every process and every release.
    assert lock_id("a") == int.from_bytes(bytes.fromhex("ca978112ca1bbdca"), "big", signed=True)
    keys = [f"{BOX} <m{n}@x>" for n in range(200)]
    ids = lock_ids([*keys, *reversed(keys)])
    assert ids == sorted(set(ids)) and len(ids) == 200
    assert all(-(2**63) <= i < 2**63 for i in ids)
    assert min(ids) < 0 < max(ids), "signed: the whole bigint range is used"
    assert lock_ids(list(reversed(keys))) == ids
    assert lock_ids([]) == []
