"""The ticketer follows integration changes (``Ticketer.use``): the next mail is judged by the
new auto-acknowledgement, ignore list and record token format of its mailbox."""

from __future__ import annotations

from libs.common.contracts import Address
from libs.common.settings import MailboxConfig, MailpipeConfig
from tests.unit.test_ticketer_handler import BOX, mail, make_rig


def config(**box: object) -> MailpipeConfig:
    data = {"address": BOX, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailpipeConfig(mailboxes=(MailboxConfig.model_validate(data | box),))


def test_the_next_mail_is_judged_by_the_new_configuration() -> None:
    rig = make_rig()
    rig.ticketer.handle(mail(1))
    assert rig.outbox.jobs == []  # auto-acknowledgement off at the start

    rig.ticketer.use(
        config(
            auto_acknowledge=True,
            ignore_senders=("@spam.example",),
            record_token_format="[Case #{id}]",
        )
    )
    rig.ticketer.handle(mail(2))
    [job] = rig.outbox.jobs
    assert job.record_id == 2 and job.text is not None and "[Case #2]" in job.text
    rig.ticketer.handle(mail(3, **{"from": Address(address="news@spam.example")}))
    processed = rig.outbox.processed_[-1]
    assert (processed.message_id, processed.outcome) == ("g3", "ignored")
    assert list(rig.store.records) == [1, 2]


def test_auto_acknowledgement_turned_off_acknowledges_no_more() -> None:
    rig = make_rig(auto_acknowledge=True)
    rig.ticketer.use(config(auto_acknowledge=False))
    rig.ticketer.handle(mail(1))
    assert list(rig.store.records) == [1] and rig.outbox.jobs == []
