""" "Test connection" of one integration: the doctor's steps (libs/common/setup_check) against
its settings, one at a time, each as ``{"step", "ok", "detail", "fix"}`` with no secret in
it; then kept as the integration's last result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from libs.common.settings import MailboxConfig
from libs.common.setup_check.console_steps import check_outside_scope, check_send_test
from libs.common.setup_check.runner import each_step, google_key_secrets, redacted
from libs.common.setup_check.steps import MAILBOX, TOKEN, Check, Probe
from services.web.mailboxes import Mailboxes


@dataclass(frozen=True)
class TestRequest:
    """What the admin asked for beyond the doctor's steps (empty: not asked)."""

    outside_mailbox: str = ""
    send_test_to: str = ""


def step_row(check: Check) -> dict[str, Any]:
    return {"step": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix}


def run_steps(
    mailboxes: Mailboxes, box: MailboxConfig, request: TestRequest
) -> Iterator[dict[str, Any]]:
    """Every step of ``box``, as each finishes."""
    secret = box.secret()
    secrets = [secret.get_secret_value()] if secret is not None else []
    secrets += google_key_secrets([box])
    for check in _checks(mailboxes, box, request):
        yield step_row(redacted(check, secrets))


def _checks(mailboxes: Mailboxes, box: MailboxConfig, request: TestRequest) -> Iterator[Check]:
    passed: dict[str, bool | None] = {}
    probe = mailboxes.probe_factory(mailboxes.graph, box)
    try:
        for check in each_step(box, probe):
            passed[check.name] = check.ok
            yield check
        if box.provider == "google":
            # Exchange's extra steps: delegation reaches every user of a Workspace alike.
            return
        if request.send_test_to and passed.get(MAILBOX):
            yield check_send_test(cast(Probe, probe), box, request.send_test_to)
    finally:
        probe.close()
    if request.outside_mailbox and passed.get(TOKEN):
        yield _outside(mailboxes, box, request.outside_mailbox)


def _outside(mailboxes: Mailboxes, box: MailboxConfig, outside: str) -> Check:
    other = box.model_copy(update={"address": outside})
    probe = mailboxes.probe_factory(mailboxes.graph, other)
    try:
        return check_outside_scope(cast(Probe, probe), box, outside)
    finally:
        probe.close()
