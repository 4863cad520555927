"""The setup steps of a Google mailbox, in the order a Workspace admin sets it up: the
service account key (Cloud console) → domain-wide delegation of its client id, scope by scope
(Admin console) → the mailbox (a Workspace user with Gmail on) → directory lookups (optional:
a warning at worst) → its labels → sending as each agent. Same
:class:`~libs.common.setup_check.steps.Check` shape as Microsoft's steps, so ``mailpipe
doctor`` and the console's "Test connection" show them unchanged (docs/doctor.md). Nothing in
the mailbox changes and no mail is sent."""

from __future__ import annotations

from collections.abc import Iterator

from libs.common.errors import MailpipeError
from libs.common.mail import GoogleSetupProbe, MailError
from libs.common.settings import MailboxConfig
from libs.common.setup_check.steps import Check, attempt, folder_targets, skipped

KEY, MAILBOX, DIRECTORY = "service account key", "mailbox", "directory lookups"
#: The requester lookups' scope: optional, so its step warns rather than fails.
DIRECTORY_SCOPE = "admin.directory.user.readonly"
_SCOPE = "https://www.googleapis.com/auth/"
_DELEGATION = (
    "Google Admin console → Security → Access and data control → API controls → "
    "Domain-wide delegation"
)
_NO_GMAIL = frozenset({"not_found", "failedPrecondition"})


def scopes(box: MailboxConfig) -> list[str]:
    """The scopes the Gmail adapter asks for this mailbox (short names)."""
    wanted = ["gmail.modify", "gmail.send"]
    return wanted + (["gmail.settings.basic"] if box.google_send_as == "alias" else [])


def delegation_fix(client_id: str, box: MailboxConfig) -> str:
    listed = ",".join(_SCOPE + s for s in scopes(box))
    return f"{_DELEGATION}: add client ID {client_id} with scopes {listed} (or edit its entry)"


def each_google_step(box: MailboxConfig, probe: GoogleSetupProbe) -> Iterator[Check]:
    """Every step for one Google mailbox, in setup order, as each finishes."""
    granted = [f"delegation {s}" for s in scopes(box)]
    later = [DIRECTORY, *(n for n, *_ in folder_targets(box))]
    later += [f"send-as {a}" for a in box.send_as]
    try:
        email, client_id = probe.key_facts()
    except MailpipeError as exc:
        yield Check(KEY, False, exc.message, exc.hint or "see docs/google.md")
        yield from skipped([*granted, MAILBOX, *later], KEY)
        return
    yield Check(KEY, True, f"service account {email} (client ID {client_id})")
    for name, scope in zip(granted, scopes(box), strict=True):
        error = _refused(probe, box.address, scope)
        if error is not None and error.code == "unknown_user":
            yield from skipped(granted[granted.index(name) :], MAILBOX)
            fix = f"correct the mailbox address, or create {box.address} in the Admin console"
            yield Check(MAILBOX, False, f"{box.address} is not a user of the Workspace", fix)
            yield from skipped(later, MAILBOX)
            return
        yield _delegation(name, scope, error, client_id, box)
    mailbox = _mailbox(box, probe)
    yield mailbox
    if not mailbox.ok:
        yield from skipped(later, MAILBOX)
        return
    yield _directory(probe, box, client_id)
    for target in folder_targets(box):
        yield _label(probe, box, *target)
    for agent in box.send_as:
        yield _send_as(probe, box, agent, client_id)


def _refused(probe: GoogleSetupProbe, user: str, scope: str) -> MailError | None:
    """Why a token acting as ``user`` for ``scope`` alone was refused; None when issued."""
    return attempt(lambda: probe.token(user, _SCOPE + scope)).error


def _delegation(
    name: str, scope: str, error: MailError | None, client_id: str, box: MailboxConfig
) -> Check:
    if error is None:
        return Check(name, True, f"a token for {box.address} with {scope} was issued")
    if error.code == "unauthorized_client":
        detail = f"client ID {client_id} is not delegated {scope} (unauthorized_client)"
        return Check(name, False, detail, delegation_fix(client_id, box))
    return Check(name, False, error.message, error.hint or "see docs/google.md")


def _directory(probe: GoogleSetupProbe, box: MailboxConfig, client_id: str) -> Check:
    """Requester lookups: a warning, never a failure, when they cannot work (mail flows
    without them; requesters are just not enriched)."""
    error = _refused(probe, box.address, DIRECTORY_SCOPE)
    if error is not None and error.code == "unauthorized_client":
        detail = (
            f"client ID {client_id} is not delegated {DIRECTORY_SCOPE} (unauthorized_client): "
            "requesters are not enriched"
        )
        fix = f"{_DELEGATION}: add the scope {_SCOPE}{DIRECTORY_SCOPE} to client ID {client_id}"
        return Check(DIRECTORY, None, detail, fix)
    if error is None:
        error = attempt(lambda: probe.directory_user(box.address)).error
        if error is None:
            return Check(DIRECTORY, True, f"read {box.address}'s entry in the directory")
    # accessNotConfigured's hint names the Admin SDK API and the project to enable it in.
    fix = error.hint or "see docs/google.md"
    return Check(DIRECTORY, None, f"{error.message}: requesters are not enriched", fix)


def _mailbox(box: MailboxConfig, probe: GoogleSetupProbe) -> Check:
    found = attempt(probe.profile)
    error = found.error
    if error is None:
        total = found.value.get("messagesTotal", 0)
        return Check(MAILBOX, True, f"reachable: {box.address} holds {total} messages")
    if error.code == "accessNotConfigured":
        detail = "the Gmail API is not enabled in the service account's Cloud project"
        return Check(MAILBOX, False, f"{detail} (accessNotConfigured)", error.hint or "")
    if error.code in _NO_GMAIL or error.status == 404:
        return Check(
            MAILBOX,
            False,
            f"{box.address} has no Gmail mailbox the API can reach ({error.code})",
            "Admin console → Apps → Google Workspace → Gmail → Service status: turn Gmail on "
            f"for {box.address}'s organizational unit (and give the user a Workspace licence)",
        )
    return Check(MAILBOX, False, error.message, error.hint or "see docs/google.md")


def _label(probe: GoogleSetupProbe, box: MailboxConfig, step: str, name: str, key: str) -> Check:
    found = attempt(lambda: probe.find_label(name))
    if found.error is not None:
        return Check(step, False, found.error.message, found.error.hint or "see docs/google.md")
    if found.value is not None:
        return Check(step, True, f"label {name!r} exists")
    if step != "folder":
        return Check(step, True, f"label {name!r} does not exist yet; it is made on first use")
    return Check(
        step,
        False,
        f"no label {name!r} in {box.address}",
        f"create the label {name!r} in Gmail (Settings → Labels → Create new label), or "
        f"correct {key} in its [[mailboxes]] entry",
    )


def _send_as(probe: GoogleSetupProbe, box: MailboxConfig, agent: str, client_id: str) -> Check:
    step = f"send-as {agent}"
    if box.google_send_as == "alias":
        return _alias(probe, box, agent, step)
    error = _refused(probe, agent, "gmail.send")
    if error is None:
        detail = f"a gmail.send token acting as {agent} was issued (their Sent keeps the copy)"
        return Check(step, True, detail)
    if error.code == "unknown_user":
        fix = f"correct or remove {agent} in send_as of {box.address}"
        return Check(step, False, f"{agent} is not a user of the Workspace", fix)
    if error.code == "unauthorized_client":
        detail = f"client ID {client_id} may not act as {agent} for gmail.send"
        return Check(step, False, detail, delegation_fix(client_id, box))
    return Check(step, False, error.message, error.hint or "see docs/google.md")


def _alias(probe: GoogleSetupProbe, box: MailboxConfig, agent: str, step: str) -> Check:
    found = attempt(lambda: probe.send_as_status(agent))
    if found.error is not None:
        return Check(step, False, found.error.message, found.error.hint or "see docs/google.md")
    where = f"Gmail of {box.address} → Settings → Accounts → Send mail as"
    if found.value == "accepted":
        return Check(step, True, f"{agent} is a verified alias of {box.address}")
    if found.value is None:
        detail = f"{agent} is not an alias of {box.address}"
        return Check(step, False, detail, f"{where} → Add another email address: {agent}")
    detail = f"the alias {agent} of {box.address} is {found.value}, not verified"
    fix = f"{agent} confirms the verification message; or {where} → resend verification"
    return Check(step, False, detail, fix)
