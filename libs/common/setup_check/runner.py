"""The steps of one mailbox in setup order, one at a time: ``mailpipe doctor`` lists them all,
the console shows each as it finishes. Later steps are reported skipped after a failed
prerequisite; a secret never leaves in a step's detail or fix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import cast

from libs.common.errors import MailpipeError
from libs.common.google_config import GoogleConfig
from libs.common.mail import GoogleSetupProbe
from libs.common.settings import GraphConfig, MailboxConfig
from libs.common.setup_check.google_steps import each_google_step
from libs.common.setup_check.steps import (
    CONSENT,
    MAILBOX,
    READ_ROLES,
    READWRITE,
    SEND,
    TOKEN,
    USERS,
    AnyProbe,
    Check,
    Probe,
    attempt,
    check_consent,
    check_folder,
    check_reachable,
    check_readwrite,
    check_send,
    check_send_as,
    check_token,
    check_users,
    folder_targets,
    has_any,
    skipped,
)


def each_step(box: MailboxConfig, probe: AnyProbe, *, send_test: bool = False) -> Iterator[Check]:
    """Every step for one mailbox, in setup order, as each finishes (its provider's steps:
    the probe is the one :func:`graph_probe` opened for that provider)."""
    if box.provider == "google":
        # Google's steps send no mail: a send-as token proves the delegation by itself.
        yield from each_google_step(box, cast(GoogleSetupProbe, probe))
        return
    yield from _microsoft_steps(box, cast(Probe, probe), send_test)


def _microsoft_steps(box: MailboxConfig, probe: Probe, send_test: bool) -> Iterator[Check]:
    later = [n for n, *_ in folder_targets(box)] + [f"send-as {a}" for a in box.send_as]
    token, roles = check_token(probe, box)
    yield token
    if not token.ok:
        yield from skipped([CONSENT, READWRITE, SEND, USERS, MAILBOX, *later], TOKEN)
        return
    consent = check_consent(roles)
    yield consent
    if consent.ok is False:
        yield from skipped([READWRITE, SEND, USERS, MAILBOX, *later], CONSENT)
        return
    read = attempt(lambda: probe.first_message_id("inbox")) if has_any(roles, READ_ROLES) else None
    mailbox = check_reachable(box, roles, read)
    readwrite = check_readwrite(probe, roles, mailbox)
    yield readwrite
    yield check_send(roles)
    users = check_users(probe, box)
    yield users
    yield mailbox
    yield from _after_mailbox(box, probe, mailbox, readwrite, users, send_test, later)


def _after_mailbox(
    box: MailboxConfig,
    probe: Probe,
    mailbox: Check,
    readwrite: Check,
    users: Check,
    send_test: bool,
    later: list[str],
) -> Iterator[Check]:
    if not mailbox.ok:
        yield from skipped(later, MAILBOX)
        return
    for target in folder_targets(box):
        yield check_folder(probe, box, *target)
    if readwrite.ok is False:
        yield from skipped([f"send-as {a}" for a in box.send_as], READWRITE)
        return
    for agent in box.send_as:
        yield check_send_as(probe, box, agent, users_ok=users.ok is True, send_test=send_test)


def diagnose(box: MailboxConfig, probe: AnyProbe, *, send_test: bool = False) -> list[Check]:
    """Every step for one mailbox, in setup order."""
    return list(each_step(box, probe, send_test=send_test))


def graph_probe(
    graph: GraphConfig, box: MailboxConfig, google: GoogleConfig | None = None
) -> AnyProbe:
    """The probe of ``box``'s provider (``google``: where the Gmail API is, for Google's)."""
    from libs.common.mail import open_google_probe, open_probe  # a client only when it runs

    if box.provider == "google":
        return open_google_probe(google or GoogleConfig(), box)
    return open_probe(graph, box)


def redacted(check: Check, secrets: Iterable[str]) -> Check:
    """``check`` with every one of ``secrets`` masked. Belt and braces: the Graph client never
    puts a secret in an error, and neither may a step."""
    detail, fix = check.detail, check.fix
    for secret in secrets:
        if secret:
            detail, fix = detail.replace(secret, "***"), fix.replace(secret, "***")
    return replace(check, detail=detail, fix=fix)


def google_key_secrets(boxes: Iterable[MailboxConfig]) -> list[str]:
    """The private keys of the Google mailboxes whose key loads, to mask like a client
    secret (no step ever quotes a key)."""
    found = []
    for box in boxes:
        if box.provider == "google":
            try:
                found.append(str(box.service_account_info()["private_key"]))
            except MailpipeError:
                continue  # the key step says what is wrong with it
    return found
