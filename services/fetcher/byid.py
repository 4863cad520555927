"""The narrowest read of a folder, when its delta read keeps failing: the ids only
(the ``id`` view, so Graph renders nothing of a message), then every mail not in flight read
on its own (``$batch`` of GETs of the ``full`` view) and handed to the round's
:class:`~services.fetcher.flow.MailFlow`. A mail Graph does not serve is unread (judged at
the end of the round); throttling, an outage or an error about the mailbox ends the round."""

from __future__ import annotations

from collections.abc import Mapping

from libs.common.mail import Mailbox, MailError, MailMessage, MailNotFound
from services.fetcher.flow import CHUNK, MailFlow, Message
from services.fetcher.inflight import InFlight
from services.fetcher.narrowing import Reads, is_read_fault
from services.fetcher.quarantine import MailFacts
from services.fetcher.unpublishable import FailureCounts

#: Ids per page of the id-only listing.
ID_PAGE = 500


def read_by_id(
    graph: Mailbox, folder: str, inflight: InFlight, failures: FailureCounts, flow: MailFlow
) -> int:
    """Read and publish the folder's new mails one by one; how many were in flight."""
    listing = graph.iter_messages(folder, view="id", top=ID_PAGE)
    ids = [m.id for m in listing if m.id]
    failures.retain(ids)
    flow.prober.neighbours.extend(ids)
    fresh = [gid for gid in ids if (graph.address, gid) not in inflight]
    for start in range(0, len(fresh), CHUNK):
        got = graph.get_messages_many(fresh[start : start + CHUNK], view="full")
        flow.run(_readable(got, flow, failures))
    flow.finish()
    return len(ids) - len(fresh)


def _readable(
    got: Mapping[str, MailMessage | MailError], flow: MailFlow, failures: FailureCounts
) -> list[Message]:
    reads: Reads = flow.reads
    readable: list[Message] = []
    for message_id, item in got.items():
        if isinstance(item, MailNotFound):
            failures.forget(message_id)  # gone since the listing
        elif isinstance(item, MailError):
            if not is_read_fault(item):
                raise item
            reads.failed("message")
            flow.unreadable(message_id, item, MailFacts())
        else:
            reads.succeeded("message")
            readable.append((message_id, item))
    suspects = {u.message_id for u in flow.unread}
    if reads.everything_fails("message") and not flow.prober.proven("message", suspects):
        raise flow.unread[-1].error  # Graph serves no mail: no mail is to blame
    return readable
