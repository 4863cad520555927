"""Two steps the console's "Test connection" adds when the admin asks for them: a mailbox the
app must NOT reach is refused, and a test message goes out from the mailbox to an address the
admin gives. Same :class:`~libs.common.setup_check.steps.Check` shape as the doctor's steps."""

from __future__ import annotations

from typing import Any

from libs.common.settings import MailboxConfig
from libs.common.setup_check.steps import Check, Probe, attempt

OUTSIDE, SEND_TEST = "mailbox outside scope", "send test"
_DENIED = frozenset({"ErrorAccessDenied", "AccessDenied", "Authorization_RequestDenied"})


def _restrict_fix(box: MailboxConfig, outside: str) -> str:
    return (
        "limit the app to its mailboxes in Exchange Online PowerShell: New-ApplicationAccessPolicy "
        f"-AppId {box.client_id} -PolicyScopeGroupId <a mail-enabled security group holding "
        f"{box.address}> -AccessRight RestrictAccess (then {outside} is refused)"
    )


def check_outside_scope(outside_probe: Probe, box: MailboxConfig, outside: str) -> Check:
    """``outside_probe`` reads mailbox ``outside``: refused is the pass."""
    error = attempt(lambda: outside_probe.first_message_id("inbox")).error
    if error is None:
        detail = f"the app read {outside}, a mailbox it should not reach"
        return Check(OUTSIDE, False, detail, _restrict_fix(box, outside))
    if error.code in _DENIED or error.status == 403:
        return Check(OUTSIDE, True, f"{outside} is refused, as it should be")
    return Check(
        OUTSIDE,
        None,
        f"{outside} could not be read for another reason: {error.message}",
        "name a mailbox of this tenant that the app must not reach",
    )


def _message(box: MailboxConfig, to: str) -> dict[str, Any]:
    return {
        "subject": "mailpipe console: Test connection",
        "body": {"contentType": "text", "content": f"Sent from {box.address} by mailpipe."},
        "toRecipients": [{"emailAddress": {"address": to}}],
    }


def check_send_test(probe: Probe, box: MailboxConfig, to: str) -> Check:
    """One message from the mailbox to ``to``, not kept in Sent Items."""
    error = attempt(lambda: probe.send_mail(_message(box, to), save_to_sent_items=False)).error
    if error is not None:
        return Check(SEND_TEST, False, error.message, error.hint or "see docs/doctor.md")
    return Check(SEND_TEST, True, f"sent a test message from {box.address} to {to}")
