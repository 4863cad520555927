"""The mail port's Google adapter: the Gmail API as a service account with domain-wide
delegation (google-auth for tokens, httpx for the API). ``GmailMail`` implements
:class:`libs.common.mail.Mailbox`; only ``libs.common.mail.providers`` (and the adapter's own
tests) import it. ``probe.GmailProbe`` makes the setup calls of ``mailpipe doctor`` and the
console's "Test connection" (the port's ``GoogleSetupProbe``).
"""

from libs.common.gmail.mail import GmailMail

__all__ = ["GmailMail"]
