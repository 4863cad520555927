"""Provider-neutral mail errors: what the services catch, whatever provider raised it.

Adapters give a transport failure the code ``"connection_error"`` (nothing reached the
provider) or ``"timeout"``.

Each provider adapter maps its own answers to these once, at its boundary (Microsoft Graph's
in ``libs/common/graph/errors.py``: its classes subclass these, so a Graph error *is* the
neutral one and keeps its status and request id for the logs). The split of
:mod:`libs.common.errors` holds: retryable errors go through the retry tiers, permanent ones
to the dead-letter queue with a ``hint``.
"""

from __future__ import annotations

from libs.common.errors import MailpipeError, PermanentError, RetryableError


class MailError(MailpipeError):
    """An error answered by (or on the way to) the mail provider or its token authority."""

    code = "mail_error"
    #: Seconds the provider asked us to wait (throttling), when it said.
    retry_after_s: float | None = None
    #: The provider's status number (an HTTP status) and request id, for the logs only.
    status: int | None = None
    request_id: str | None = None
    #: The adapter's verdict: the error speaks of the mailbox or the app (no permission, no
    #: licence, a full mailbox, a refused token), never of the one message asked for. The
    #: fetcher quarantines a message only for errors that are not.
    about_mailbox: bool = False


class MailRetryableError(MailError, RetryableError):
    """The provider may accept the same request later (throttled, unavailable, timed out)."""

    retryable = True


class Throttled(MailRetryableError):
    """The provider asked us to slow down."""


class MailUnavailable(MailRetryableError):
    """The provider or the network failed: a server error, a timeout, no connection."""


class OutcomeUnknown(MailUnavailable):
    """A non-idempotent request (a send, a copy) left and its answer was lost: the provider
    may have done the work. Not retried in place; the caller finds out first (the sender
    looks in the sent folder for its Message-ID before sending again)."""


class MailPermanentError(MailError, PermanentError):
    """Retrying the same request cannot help; ``hint`` names the setup step to check."""

    retryable = False


class MailNotFound(MailPermanentError):
    """The item does not exist (any more). Deleting or moving it again counts as done."""


class MailAuthError(MailPermanentError):
    """No token: the app registration, its credential or the tenant is wrong."""


class SendAsDenied(MailPermanentError):
    """The mailbox may not send as the address asked for (no "Send As" grant)."""


class CursorExpired(MailPermanentError):
    """The change cursor is no longer valid; the folder must be read from scratch."""


class TooLarge(MailPermanentError):
    """The request exceeds the provider's size limit."""
