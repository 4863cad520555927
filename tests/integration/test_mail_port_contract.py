"""The mail port's contract: the same checks against the Graph adapter (on its simulator),
the Gmail adapter (on its simulator) and the shared fake (``tests/mail_fake.py``), so the fake
cannot drift from the adapters and the adapters not from each other.

Each backend is a :class:`Backend`: the port itself plus the few set-up steps a test needs
(seed a message, grant Send As, add a user, expire the change cursors), which each backend
does its own way, and the few facts in which the providers differ by design (named there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from libs.common.mail import (
    DirectoryUser,
    Mailbox,
    MailFolder,
    MailNotFound,
    OutgoingAttachment,
    SendAsDenied,
    open_provider,
)
from libs.gmailsim.testing import GmailSimHandle
from libs.graphsim.testing import SimHandle
from tests.gmailsim_helpers import seed as gmail_seed
from tests.mail_fake import FakeMailbox

from .graph_client_helpers import BOX, control_json, seed

AGENT = "agent@contoso.com"


@dataclass
class Backend:
    mailbox: Mailbox
    seed: Callable[[bytes], str]
    grant_send_as: Callable[[list[str]], None]
    add_user: Callable[[str, str], None]
    expire_cursors: Callable[[], None]
    #: An address the mailbox may not send as until ``grant_send_as``.
    agent: str = AGENT
    #: The inbox's name as the provider shows it.
    inbox_name: str = "Inbox"
    #: Whether a copy is a message of its own (Graph) or the same message under one more
    #: label (Gmail: the copy keeps the id).
    copy_is_new_message: bool = True
    #: Whether a batch delete tells "already removed" from "removed now" (Gmail's trash does
    #: not, without a read per message: both are done).
    batch_tells_removed: bool = True

    @property
    def address(self) -> str:
        return self.mailbox.address


def _graph(sim: SimHandle) -> Iterator[Backend]:
    provider = open_provider(sim.config())
    mailbox = provider(sim.config().mailbox(BOX))

    def grant(addresses: list[str]) -> None:
        control_json(sim, "PUT", f"/_sim/mailboxes/{BOX}/send-as", json={"allowed": addresses})

    def add_user(address: str, name: str) -> None:
        user = {"address": address, "display_name": name}
        control_json(sim, "POST", "/_sim/users", json=user)

    def expire() -> None:
        control_json(sim, "POST", f"/_sim/mailboxes/{BOX}/expire-delta")

    yield Backend(mailbox, lambda raw: seed(sim, raw), grant, add_user, expire)
    provider.close()


def _gmail(sim: GmailSimHandle) -> Iterator[Backend]:
    provider = open_provider(sim.config())
    address = sim.mailboxes[0]
    mailbox = provider(sim.config().mailbox(address))

    def control(method: str, path: str, **kwargs: object) -> None:
        with sim.control() as client:
            client.request(method, path, **kwargs).raise_for_status()  # type: ignore[arg-type]

    def grant(addresses: list[str]) -> None:
        # Impersonation (the default): sending as an agent needs the agent in the Workspace.
        for agent in addresses:
            control("POST", "/_sim/users", json={"address": agent})

    def add_user(address: str, name: str) -> None:
        control("POST", "/_sim/users", json={"address": address, "display_name": name})

    def expire() -> None:
        control("POST", f"/_sim/mailboxes/{address}/expire-history")

    yield Backend(
        mailbox,
        lambda raw: str(gmail_seed(sim, address, raw)["id"]),
        grant,
        add_user,
        expire,
        agent="newagent@example.com",
        inbox_name="INBOX",
        copy_is_new_message=False,
        batch_tells_removed=False,
    )
    provider.close()


def _fake() -> Iterator[Backend]:
    fake = FakeMailbox(address=BOX)

    def add_user(address: str, name: str) -> None:
        user = DirectoryUser(f"user-{address}", name, address, user_principal_name=address)
        fake.users[address] = user

    yield Backend(fake, fake.seed, fake.send_as.update, add_user, fake.expire_cursors)


@pytest.fixture(params=["graph", "gmail", "fake"])
def port(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "graph":
        yield from _graph(request.getfixturevalue("sim"))
    elif request.param == "gmail":
        yield from _gmail(request.getfixturevalue("gsim"))
    else:
        yield from _fake()


def mime(subject: str, *, sender: str = "ann@fabrikam.com", to: str = BOX) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, to
    msg["Message-ID"] = make_msgid(domain="fabrikam.com")
    msg.set_content("Hello,\nthe printer is jammed.\n")
    msg.add_attachment(b"log line\n", maintype="text", subtype="plain", filename="log.txt")
    return msg.as_bytes(), str(msg["Message-ID"])


def test_a_seeded_message_reads_back(port: Backend) -> None:
    raw, message_id = mime("Printer")
    seeded = port.seed(raw)
    message = port.mailbox.get_message(seeded)
    assert message.id == seeded and message.subject == "Printer"
    assert message.internet_message_id == message_id
    assert message.from_ is not None and message.from_.address == "ann@fabrikam.com"
    assert b"Subject: Printer" in port.mailbox.get_mime(seeded)
    (attachment,) = port.mailbox.get_attachments(seeded)
    assert (attachment.name, attachment.content) == ("log.txt", b"log line\n")
    many = port.mailbox.get_messages_many([seeded, seeded])
    assert list(many) == [seeded]


def test_a_missing_message_is_mail_not_found(port: Backend) -> None:
    seeded = port.seed(mime("Gone")[0])
    assert port.mailbox.delete(seeded) is True
    assert port.mailbox.delete(seeded) is False
    with pytest.raises(MailNotFound):
        port.mailbox.get_message(seeded)
    assert isinstance(port.mailbox.get_messages_many([seeded])[seeded], MailNotFound)
    assert isinstance(port.mailbox.get_attachments_many([seeded])[seeded], MailNotFound)


def test_batches_count_a_gone_message_as_done(port: Backend) -> None:
    ids = [port.seed(mime(f"Ticket {i}")[0]) for i in range(3)]
    port.mailbox.delete(ids[0])
    outcomes = port.mailbox.delete_many(ids)
    assert list(outcomes) == ids
    assert outcomes[ids[0]].done
    assert (outcomes[ids[0]].outcome == "not_found") is port.batch_tells_removed
    assert all(outcomes[i].outcome == "ok" for i in ids[1:])
    assert port.mailbox.list_messages("inbox") == []


def test_move_and_copy_into_a_folder_made_on_demand(port: Backend) -> None:
    ids = [port.seed(mime(f"Ticket {i}")[0]) for i in range(4)]
    moved = port.mailbox.move(ids[0], "Processed")
    assert port.mailbox.get_message(moved).subject == "Ticket 0"
    copied = port.mailbox.copy(ids[1], "Processed")
    assert (copied != ids[1]) is port.copy_is_new_message
    assert port.mailbox.get_message(ids[1]).subject == "Ticket 1"
    outcomes = port.mailbox.move_many(ids[2:], "Quarantine")
    assert all(o.outcome == "ok" and o.body["id"] for o in outcomes.values())
    assert [m.subject for m in port.mailbox.list_messages("inbox")] == ["Ticket 1"]
    processed = port.mailbox.list_messages("Processed")
    assert sorted(str(m.subject) for m in processed) == ["Ticket 0", "Ticket 1"]
    copies = port.mailbox.copy_many([ids[1]], "Processed")
    assert copies[ids[1]].outcome == "ok"
    assert (copies[ids[1]].body["id"] != ids[1]) is port.copy_is_new_message


def test_changes_since_a_cursor(port: Backend) -> None:
    first = port.seed(mime("First")[0])
    start = port.mailbox.delta("inbox")
    assert [m.id for m in start.messages] == [first] and not start.resynced
    second = port.seed(mime("Second")[0])
    port.mailbox.delete(first)
    pages = list(port.mailbox.iter_delta("inbox", start.cursor))
    assert [m.id for p in pages for m in p.messages] == [second]
    assert [i for p in pages for i in p.removed] == [first]
    assert pages[-1].cursor and not any(p.cursor for p in pages[:-1])
    quiet = port.mailbox.delta("inbox", pages[-1].cursor)
    assert quiet.messages == [] and quiet.removed == []


def test_an_expired_cursor_reads_the_folder_again(port: Backend) -> None:
    kept = port.seed(mime("Kept")[0])
    start = port.mailbox.delta("inbox")
    port.expire_cursors()
    again = port.mailbox.delta("inbox", start.cursor)
    assert again.resynced and [m.id for m in again.messages] == [kept]


def test_sent_mail_is_found_by_its_message_id(port: Backend) -> None:
    raw, message_id = mime("Answer", sender=port.address, to="ann@fabrikam.com")
    assert port.mailbox.find_sent(message_id) is False
    assert port.mailbox.send_mime(raw) is not None
    assert port.mailbox.find_sent(message_id) is True
    limits = port.mailbox.send_limits
    assert 0 < limits.attachment_in_one_request < limits.largest_message
    assert 0 < limits.message_in_one_request < limits.largest_message
    big, big_id = mime("Large", sender=port.address, to="ann@fabrikam.com")
    extra = [OutgoingAttachment("a.bin", b"x" * 1000)]
    port.mailbox.send_mime_draft(big, extra, attachment_post_limit=100)
    assert port.mailbox.find_sent(big_id) is True


def test_sending_as_another_address_needs_the_grant(port: Backend) -> None:
    raw, message_id = mime("As agent", sender=port.agent, to="ann@fabrikam.com")
    with pytest.raises(SendAsDenied) as denied:
        port.mailbox.send_mime(raw)
    assert not denied.value.retryable and denied.value.hint
    port.grant_send_as([port.agent])
    port.mailbox.send_mime(raw)
    # Found with the From it was built with, wherever the provider files it (Graph: the
    # mailbox's Sent Items; Gmail: the impersonated agent's Sent).
    assert port.mailbox.find_sent(message_id, sender=port.agent) is True
    assert port.mailbox.find_sent(f"<not-{message_id[1:]}", sender=port.agent) is False


def test_user_lookup(port: Backend) -> None:
    port.add_user("bob@contoso.com", "Bob Jones")
    user = port.mailbox.get_user("Bob@Contoso.com")
    assert isinstance(user, DirectoryUser) and user.id
    assert (user.display_name, user.mail) == ("Bob Jones", "bob@contoso.com")
    assert user.user_principal_name == "bob@contoso.com"
    # Properties the organisation did not fill in are None, not "".
    assert (user.job_title, user.department) == (None, None)
    with pytest.raises(MailNotFound):
        port.mailbox.get_user("nobody@contoso.com")


def test_a_folder_reads_without_its_mail(port: Backend) -> None:
    port.seed(mime("One")[0])
    port.seed(mime("Two")[0])
    folder = port.mailbox.get_folder("inbox")
    assert isinstance(folder, MailFolder) and folder.id
    assert (folder.display_name, folder.total_count) == (port.inbox_name, 2)
    with pytest.raises(MailNotFound):
        port.mailbox.get_folder("No such folder")
