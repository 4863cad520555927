"""GmailMail: the face the services use for one Google mailbox, through the Gmail API.

Reading in ``_reading``, user lookups (the Directory API) in ``_directory``, changing in
``_changing``, sending in ``_sending``, change subscriptions (refused: Gmail pushes through
Pub/Sub) in ``_subscribing``, on the client and plumbing of ``_base``.
"""

from __future__ import annotations

from typing import Any

from libs.common.gmail._changing import GmailChanging
from libs.common.gmail._directory import GmailDirectory
from libs.common.gmail._reading import GmailReading
from libs.common.gmail._sending import GmailSending
from libs.common.gmail._subscribing import GmailSubscribing


class GmailMail(GmailReading, GmailDirectory, GmailChanging, GmailSending, GmailSubscribing):
    """Mail operations on one Google mailbox, as the service account acting for it.
    Thread-safe; share one per mailbox and process. Every request spends the user's quota
    units (waiting for room) and raises the mail port's neutral errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sending_init()
