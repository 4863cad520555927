"""Mail the fetcher can never publish: which failures are the mail's own, and how often a
mail has failed in a row.

A mail that fails every round keeps the round incomplete, so the delta link is never saved
and the mailbox makes no progress. After :data:`QUARANTINE_AFTER` consecutive failures that
are the mail's own fault, the poller moves it to the quarantine folder and the round may
complete. Failures shared by every mail (a refused credential, missing permissions, a
missing queue) are never the mail's fault: quarantining on them would empty the inbox into
the quarantine folder.

Plain data and functions; no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from libs.common.blobs import BlobTooLarge
from libs.common.errors import ContractError, PermanentError
from libs.common.mail import MailAuthError, MailPermanentError

#: Consecutive failed rounds before a mail is moved to quarantine: enough to ride out a
#: one-off, few enough that the mailbox's delta link is not held back for long.
QUARANTINE_AFTER = 3


def is_mail_fault(exc: PermanentError) -> bool:
    """True when ``exc`` is about this one mail (it cannot be mapped, or Graph refuses to
    hand out this mail's parts), so that retrying it can never help."""
    if isinstance(exc, ContractError | BlobTooLarge):
        # BlobTooLarge: an attachment (or the raw MIME) over MAILPIPE_BLOB_MAX_BYTES, on
        # either blob store; only this mail carries it.
        return True
    if isinstance(exc, MailAuthError):
        return False
    if isinstance(exc, MailPermanentError):
        # The adapter knows which of its provider's answers speak of the mailbox or the app.
        return not exc.about_mailbox
    # ConfigError, UnroutableError and the like: a setup problem every mail shares.
    return False


class FailureCounts:
    """Consecutive failures per Graph id of one mailbox, for the process's lifetime.

    After a restart the counts start again from zero: the mail gets a few more rounds,
    nothing is lost. Also the *suspects*: mails a read of which failed (counted or not), whose
    reads are then kept short. Thread-safe, although each mailbox's poller is one thread.
    """

    def __init__(self, limit: int = QUARANTINE_AFTER) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._suspects: set[str] = set()
        self._lock = threading.Lock()

    def suspect(self, message_id: str) -> None:
        """A read of this mail failed (whether or not it is counted)."""
        with self._lock:
            self._suspects.add(message_id)

    def is_suspect(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._suspects or message_id in self._counts

    def failed(self, message_id: str) -> int:
        """Count one more failure; the number in a row so far."""
        with self._lock:
            count = self._counts.get(message_id, 0) + 1
            self._counts[message_id] = count
            return count

    def exhausted(self, count: int) -> bool:
        return count >= self.limit

    def forget(self, message_id: str) -> None:
        """The mail was published, quarantined or left the folder: start from zero."""
        with self._lock:
            self._counts.pop(message_id, None)
            self._suspects.discard(message_id)

    def retain(self, message_ids: Iterable[str]) -> None:
        """Forget the mails that are not among ``message_ids`` (they left the folder)."""
        keep = set(message_ids)
        with self._lock:
            for message_id in [g for g in self._counts if g not in keep]:
                del self._counts[message_id]
            self._suspects &= keep

    def get(self, message_id: str) -> int:
        with self._lock:
            return self._counts.get(message_id, 0)

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)
