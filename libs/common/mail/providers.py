"""Which adapter serves a mailbox: the one place that knows the providers.

A service asks :func:`open_provider` for its mailboxes and never constructs a provider's
client itself. Each mailbox names its provider (``provider`` in ``[[mailboxes]]``:
``"microsoft"`` → ``libs/common/graph``, ``"google"`` → ``libs/common/gmail``). The adapters
are imported here lazily, so a service that never talks to mail (and the domain code) loads
no HTTP or token library. A new provider is one more branch below and one more adapter
package beside those two.
"""

from __future__ import annotations

import threading

from libs.common.errors import ConfigError
from libs.common.google_config import GoogleConfig
from libs.common.mail.ports import GoogleSetupProbe, Mailbox, MailProvider, SetupProbe
from libs.common.settings import GraphConfig, MailboxConfig, MailpipeConfig


def open_provider(config: MailpipeConfig, *, retry_budget_s: float | None = None) -> MailProvider:
    """Mailboxes for ``config``'s ``[[mailboxes]]``, one per address, made on first use.

    ``retry_budget_s`` caps how long one call keeps retrying throttled or unavailable
    answers (never more than the provider's configured budget); None keeps that budget.
    """
    return _Mailboxes(config, retry_budget_s)


def open_mailbox(config: MailpipeConfig, box: MailboxConfig) -> Mailbox:
    """One mailbox of its own (close it when done), for a one-off command."""
    return _adapter(config, box, None)


def open_probe(graph: GraphConfig, box: MailboxConfig) -> SetupProbe:
    """The setup checks' calls on a Microsoft ``box`` (``mailpipe doctor``); close it when
    done. A Google mailbox's are :func:`open_google_probe`'s: its steps differ."""
    if box.provider == "microsoft":
        from libs.common.graph.probe import MailboxProbe  # httpx and msal only when used

        return MailboxProbe(graph, box)
    raise ConfigError(
        f"mailbox {box.address} is a {box.provider} mailbox",
        hint="its setup checks are open_google_probe's",
    )


def open_google_probe(google: GoogleConfig, box: MailboxConfig) -> GoogleSetupProbe:
    """The setup checks' calls on a Google ``box``, through ``google``'s API and token
    endpoint; close it when done."""
    if box.provider != "google":
        raise ConfigError(f"mailbox {box.address} is not a google mailbox")
    from libs.common.gmail.probe import GmailProbe  # google-auth only when used

    return GmailProbe(google, box)


class _Mailboxes:
    def __init__(self, config: MailpipeConfig, retry_budget_s: float | None) -> None:
        self._config = config
        self._budget_s = retry_budget_s
        #: Per address the settings its client was made with, and the client.
        self._boxes: dict[str, tuple[MailboxConfig, Mailbox]] = {}
        #: Clients of settings since changed (another thread may still use one): closed last.
        self._retired: list[Mailbox] = []
        self._lock = threading.Lock()

    def __call__(self, box: MailboxConfig) -> Mailbox:
        """The client of ``box``; a new one when its settings changed (a new secret must
        not be served the old secret's cached token)."""
        with self._lock:
            made = self._boxes.get(box.address)
            if made is not None and made[0] == box:
                return made[1]
            if made is not None:
                self._retired.append(made[1])
            mailbox = _adapter(self._config, box, self._budget_s)
            self._boxes[box.address] = (box, mailbox)
            return mailbox

    def close(self) -> None:
        with self._lock:
            boxes = [made[1] for made in self._boxes.values()] + self._retired
            self._boxes, self._retired = {}, []
        for mailbox in boxes:
            mailbox.close()


def _adapter(config: MailpipeConfig, box: MailboxConfig, budget_s: float | None) -> Mailbox:
    if box.provider == "microsoft":
        from libs.common.graph import GraphMail, RetryPolicy  # httpx and msal only when used

        policy = None
        if budget_s is not None:
            policy = RetryPolicy(budget_s=min(budget_s, config.graph.max_retry_s))
        return GraphMail(config.graph, box, policy=policy)
    if box.provider == "google":
        from libs.common.gmail import GmailMail  # google-auth and httpx only when used
        from libs.common.mail.retry import RetryPolicy as Policy

        budget = (
            config.google.max_retry_s
            if budget_s is None
            else min(budget_s, config.google.max_retry_s)
        )
        return GmailMail(config.google, box, policy=Policy(budget_s=budget))
    raise AssertionError(f"no adapter for provider {box.provider!r}")  # the config forbids it
