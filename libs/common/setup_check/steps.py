"""The setup steps of a mailbox, checked live in the order it is set up (``mailpipe doctor``
and the console's "Test connection" share them: docs/doctor.md).

Entra (credential, admin consent, application permissions) → Exchange (application access
policy, licence) → folders → Send As grants: Microsoft's setup steps, read from Graph's
error codes. Each step is a small function over a :class:`Probe` (the mail port's setup
calls) returning a :class:`Check`; when a prerequisite fails, the steps that need it are
reported as ``skipped: needs <step>`` instead of failing again for the same reason. Nothing
in the mailbox changes except one throw-away draft per probe, purged at once; no mail is
sent unless ``send_test`` asks for it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from libs.common.after_processing import Delete, Move
from libs.common.errors import MailpipeError
from libs.common.mail import GoogleSetupProbe, MailError, SendAsDenied, SetupProbe
from libs.common.settings import GraphConfig, MailboxConfig
from libs.common.setup_check.fixes import CONSENT_FIX, permission_fix, policy_fix, send_as_fix

TOKEN, CONSENT, MAILBOX = "token", "admin consent", "mailbox"
READWRITE, SEND, USERS = "Mail.ReadWrite", "Mail.Send", "User.Read.All"

READ_ROLES = frozenset({"Mail.Read", "Mail.ReadWrite"})
_DENIED = frozenset({"ErrorAccessDenied", "AccessDenied", "Authorization_RequestDenied"})
_NO_USER = frozenset({"ErrorInvalidUser", "ResourceNotFound", "Request_ResourceNotFound"})
_NOT_ENABLED = frozenset({"MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI"})
_PROBE_SUBJECT = "mailpipe doctor probe (deleted at once, never sent)"


@dataclass(frozen=True)
class Check:
    """One step's result. ``ok`` is None when the step was skipped or cannot be proven
    without sending mail; ``fix`` says what to do (empty when nothing is to be done)."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    @property
    def skipped(self) -> bool:
        return self.ok is None and self.detail.startswith("skipped:")


#: The calls the checks make (the mail port's setup probe; Microsoft's is
#: ``libs.common.graph.probe.MailboxProbe``).
Probe = SetupProbe
#: Either provider's probe: the runner gives each provider's steps its own.
AnyProbe = SetupProbe | GoogleSetupProbe

ProbeFactory = Callable[[GraphConfig, MailboxConfig], AnyProbe]


def token_roles(token: str) -> frozenset[str] | None:
    """The ``roles`` claim of a JWT access token (read, not verified), or None when the
    token is not a readable JWT. Only role names leave this function, never the token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    if not isinstance(claims, dict):
        return None
    roles = claims.get("roles") or []
    return frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: MailError | None = None


def attempt(call: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(call())
    except MailError as exc:
        return Outcome(error=exc)


def has_any(roles: frozenset[str] | None, wanted: frozenset[str]) -> bool:
    # An unreadable roles claim decides nothing: the calls themselves will tell.
    return roles is None or bool(roles & wanted)


def skipped(names: Sequence[str], needs: str) -> list[Check]:
    return [Check(name, None, f"skipped: needs {needs}") for name in names]


def _failed(name: str, exc: MailpipeError) -> Check:
    return Check(name, False, exc.message, exc.hint or "see docs/doctor.md")


def check_token(probe: Probe, box: MailboxConfig) -> tuple[Check, frozenset[str] | None]:
    try:
        token = probe.fresh_token()
    except MailpipeError as exc:
        return Check(TOKEN, False, f"no token: {exc.message}", exc.hint or CONSENT_FIX), None
    kind = "client secret" if box.secret() is not None else "certificate"
    detail = f"issued to client {box.client_id} in tenant {box.tenant_id} ({kind})"
    return Check(TOKEN, True, detail), token_roles(token)


def check_consent(roles: frozenset[str] | None) -> Check:
    if roles is None:
        return Check(CONSENT, None, "the token's roles cannot be read; the calls below decide")
    if not roles:
        detail = "the token has no roles: no application permission has admin consent"
        return Check(CONSENT, False, detail, CONSENT_FIX)
    return Check(CONSENT, True, "roles in the token: " + ", ".join(sorted(roles)))


def check_reachable(
    box: MailboxConfig, roles: frozenset[str] | None, read: Outcome | None
) -> Check:
    if read is None:
        return Check(MAILBOX, None, f"skipped: needs {READWRITE}")
    exc = read.error
    if exc is None:
        listed = "1 message id" if read.value else "no message (the inbox is empty)"
        return Check(MAILBOX, True, f"reachable: listed {listed} of inbox")
    if exc.code in _DENIED and roles is None:
        # Without the roles claim, a missing permission and a policy look the same.
        detail = f"Exchange denied access to {box.address} ({exc.code})"
        fix = f"either {permission_fix(READWRITE)}, or {policy_fix(box)}"
        return Check(MAILBOX, False, detail, fix)
    if exc.code in _DENIED:
        detail = (
            f"Exchange denied access to {box.address} ({exc.code}) although the token "
            "holds a mail permission: an application access policy blocks this app"
        )
        return Check(MAILBOX, False, detail, policy_fix(box))
    if exc.code in _NOT_ENABLED:
        detail = f"{box.address} is not an Exchange Online mailbox Graph can reach ({exc.code})"
        return Check(MAILBOX, False, detail, exc.hint or "")
    return _failed(MAILBOX, exc)


def _draft_round_trip(probe: Probe, message: Mapping[str, Any]) -> MailError | None:
    """Create a draft and purge it; the error that stopped it, if any."""
    created = attempt(lambda: probe.create_draft(message))
    if created.error is not None:
        return created.error
    purged = attempt(lambda: probe.permanent_delete(str(created.value)))
    return purged.error


def _probe_message(sender: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "subject": _PROBE_SUBJECT,
        "body": {"contentType": "text", "content": "Checks the mailbox setup; never sent."},
    }
    if sender:
        message["from"] = {"emailAddress": {"address": sender}}
    return message


def check_readwrite(probe: Probe, roles: frozenset[str] | None, mailbox: Check) -> Check:
    if roles is not None and READWRITE not in roles:
        detail = f"{READWRITE} is not among the token's roles"
        return Check(READWRITE, False, detail, permission_fix(READWRITE))
    if mailbox.ok is not True:
        return Check(READWRITE, None, "granted in the token; not exercised: mailbox unreachable")
    exc = _draft_round_trip(probe, _probe_message())
    if exc is None:
        return Check(READWRITE, True, "listed inbox; created a draft and purged it")
    if exc.code in _DENIED:
        detail = f"Exchange refused to create a draft ({exc.code})"
        return Check(READWRITE, False, detail, permission_fix(READWRITE))
    return _failed(READWRITE, exc)


def check_send(roles: frozenset[str] | None) -> Check:
    if roles is None:
        return Check(SEND, None, "the token's roles cannot be read; only a send proves it")
    if SEND in roles:
        # Honest limit: every call that exercises Mail.Send sends mail.
        return Check(SEND, True, "in the token's roles (not exercised: that would send mail)")
    return Check(SEND, False, f"{SEND} is not among the token's roles", permission_fix(SEND))


def check_users(probe: Probe, box: MailboxConfig) -> Check:
    found = attempt(lambda: probe.get_user(box.address))
    exc = found.error
    if exc is None:
        return Check(USERS, True, f"read the directory entry of {box.address}")
    if exc.code in _DENIED:
        return Check(USERS, False, f"directory read denied ({exc.code})", permission_fix(USERS))
    if exc.code in _NO_USER or exc.status == 404:
        return Check(USERS, True, f"granted; {box.address} is not a user of this tenant")
    return _failed(USERS, exc)


def folder_targets(box: MailboxConfig) -> list[tuple[str, str, str]]:
    """(step, folder name, config key) for each folder the mailbox's settings name."""
    targets = [("folder", box.folder, "folder")]
    if box.copy_to_folder:
        targets.append(("copy folder", box.copy_to_folder, "copy_to_folder"))
    match box.after_processing:  # the move folder is checked even when a copy folder wins
        case Move(folder):
            targets.append(("move folder", folder, "after_processing"))
        case Delete():
            pass
        case _:
            assert_never(box.after_processing)
    targets.append(("quarantine folder", box.quarantine_folder, "quarantine_folder"))
    return targets


def check_folder(probe: Probe, box: MailboxConfig, step: str, name: str, key: str) -> Check:
    found = attempt(lambda: probe.find_folder(name))
    if found.error is not None:
        return _failed(step, found.error)
    if found.value is not None:
        return Check(step, True, f"{name!r} exists")
    if step == "quarantine folder":
        return Check(step, True, f"{name!r} does not exist yet; it will be created on first use")
    later = "" if step == "folder" else " (left as is, mailpipe would create it on first use)"
    return Check(
        step,
        False,
        f"no top-level folder {name!r} in {box.address}",
        f"create the folder {name!r} at the top level of the mailbox, or correct {key} in "
        f"its [[mailboxes]] entry{later}",
    )


def check_send_as(
    probe: Probe, box: MailboxConfig, agent: str, *, users_ok: bool, send_test: bool
) -> Check:
    step = f"send-as {agent}"
    if users_ok:
        exc = attempt(lambda: probe.get_user(agent)).error
        if exc is not None and (exc.code in _NO_USER or exc.status == 404):
            fix = f"correct or remove {agent} in send_as of {box.address}"
            return Check(step, False, f"{agent} is not a user of this tenant", fix)
        if exc is not None:
            return _failed(step, exc)
    exc = _draft_round_trip(probe, _probe_message(agent))
    if exc is None and send_test:
        exc = attempt(lambda: probe.send_mail(_test_mail(agent), save_to_sent_items=False)).error
    if isinstance(exc, SendAsDenied):
        detail = f"Exchange refused to let {box.address} send as {agent} (ErrorSendAsDenied)"
        return Check(step, False, detail, send_as_fix(agent, box, exc.hint))
    if exc is not None:
        return _failed(step, exc)
    if send_test:
        return Check(step, True, f"sent a test message as {agent} to {agent}")
    return Check(
        step,
        None,
        f"a draft from {agent} was accepted and purged, which does not prove the grant: "
        "Exchange checks Send As only when a message is submitted (run with --send-test)",
        f"to confirm without sending: Get-RecipientPermission -Identity {agent} -Trustee "
        f"{box.address}; to grant: " + send_as_fix(agent, box),
    )


def _test_mail(agent: str) -> dict[str, Any]:
    return _probe_message(agent) | {
        "subject": "mailpipe doctor: Send As test",
        "body": {"contentType": "text", "content": "Sent by mailpipe doctor --send-test."},
        "toRecipients": [{"emailAddress": {"address": agent}}],
    }
