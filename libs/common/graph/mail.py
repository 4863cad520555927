"""GraphMail: the face the services use for one mailbox's mail through Microsoft Graph.

Its operations are written by concern: reading in ``_mail_reading``, changing messages in
``_mail_changing``, sending in ``_mail_sending``, change subscriptions in
``_mail_subscribing``, on the client and plumbing of
``_mailbox_base``.
"""

from __future__ import annotations

from libs.common.graph import _send
from libs.common.graph._mail_changing import MailChanging
from libs.common.graph._mail_reading import MailReading
from libs.common.graph._mail_sending import MailSending
from libs.common.graph._mail_subscribing import MailSubscribing


class GraphMail(MailReading, MailChanging, MailSending, MailSubscribing):
    """Mail operations on one mailbox. Thread-safe; share one per mailbox and process.

    Every request asks for immutable ids, goes through the mailbox's process-wide gate (at
    most ``max_concurrency`` in flight, the 10-minute budget) and raises typed errors from
    :mod:`libs.common.graph.errors` once retrying cannot or may not help.
    """

    send_limits = _send.SEND_LIMITS
