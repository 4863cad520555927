"""``mailpipe doctor`` against the Graph simulator, one injected setup failure per test."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from libs.common.settings import MailboxConfig, MailpipeConfig
from libs.common.setup_check.steps import Check
from libs.graphsim.testing import SimHandle
from mailpipe.doctor_run import exit_code, run_doctor
from tests.certs import self_signed

BOX = "support@contoso.com"
AGENT = "agent@contoso.com"
CONFIG_OK = Check("config", True, "loaded")
LATER = ("folder", "quarantine folder")


def doctor(sim: SimHandle, *, send_test: bool = False, **overrides: Any) -> dict[str, Check]:
    config = sim.config(**overrides)
    (report,) = run_doctor(config, mailbox=BOX, send_test=send_test)
    return {c.name: c for c in report.checks}


def code_of(checks: dict[str, Check]) -> int:
    from mailpipe.doctor_run import MailboxReport

    return exit_code(CONFIG_OK, [MailboxReport(BOX, tuple(checks.values()))])


def control(sim: SimHandle, method: str, path: str, **kwargs: Any) -> Any:
    with sim.control() as c:
        response = c.request(method, path, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def set_permissions(sim: SimHandle, permissions: list[str]) -> None:
    body = {
        "tenant_id": sim.tenant_id,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "permissions": permissions,
    }
    control(sim, "POST", "/_sim/apps", json=body)


def add_agent(sim: SimHandle, *, granted: bool) -> None:
    control(sim, "POST", "/_sim/users", json={"address": AGENT})
    allowed = [AGENT] if granted else []
    control(sim, "PUT", f"/_sim/mailboxes/{BOX}/send-as", json={"allowed": allowed})


def assert_skipped(checks: dict[str, Check], names: tuple[str, ...], needs: str) -> None:
    for name in names:
        assert checks[name].ok is None, name
        assert checks[name].detail == f"skipped: needs {needs}", name


def assert_token_failure(checks: dict[str, Check], aadsts: str, fix_text: str) -> None:
    assert checks["token"].ok is False
    assert aadsts in checks["token"].detail
    assert fix_text in checks["token"].fix
    assert_skipped(checks, ("admin consent", "Mail.ReadWrite", "mailbox", *LATER), "token")
    assert code_of(checks) == 1


def test_all_green_leaves_no_trace_and_sends_nothing(sim: SimHandle) -> None:
    add_agent(sim, granted=True)
    control(
        sim,
        "POST",
        f"/_sim/mailboxes/{BOX}/messages?folder=Handled",
        content=b"Subject: x\r\n\r\nx",
    )
    control(sim, "POST", f"/_sim/mailboxes/{BOX}/messages", content=b"Subject: y\r\n\r\ny")
    checks = doctor(sim, copy_to_folder="Handled", after_processing="move:Handled", send_as=[AGENT])
    assert [c.name for c in checks.values()] == [
        "token",
        "admin consent",
        "Mail.ReadWrite",
        "Mail.Send",
        "User.Read.All",
        "mailbox",
        "folder",
        "copy folder",
        "move folder",
        "quarantine folder",
        f"send-as {AGENT}",
    ]
    assert all(c.ok for n, c in checks.items() if n != f"send-as {AGENT}"), checks
    assert "listed 1 message id" in checks["mailbox"].detail
    assert "will be created on first use" in checks["quarantine folder"].detail
    # Without --send-test a grant cannot be proven; the step says so and does not fail.
    assert checks[f"send-as {AGENT}"].ok is None
    assert "Get-RecipientPermission" in checks[f"send-as {AGENT}"].fix
    assert code_of(checks) == 0
    state = control(sim, "GET", f"/_sim/mailboxes/{BOX}")
    assert state["sent"] == 0
    assert state["folders"]["drafts"] == 0
    assert state["folders"]["recoverableitemsdeletions"] == 0
    assert state["folders"]["inbox"] == 1


def test_wrong_tenant(sim: SimHandle) -> None:
    checks = doctor(sim, tenant_id=str(uuid.uuid4()))
    assert_token_failure(checks, "the tenant", "Directory (tenant) ID")


def test_wrong_client_id(sim: SimHandle) -> None:
    checks = doctor(sim, client_id=str(uuid.uuid4()))
    assert_token_failure(checks, "AADSTS700016", "Application (client) ID")


def test_wrong_secret_is_named_but_never_shown(sim: SimHandle) -> None:
    wrong = "wrong-" + uuid.uuid4().hex
    checks = doctor(sim, client_secret=wrong)
    assert_token_failure(checks, "AADSTS7000215", "Value (not its Secret ID)")
    assert all(wrong not in c.detail + c.fix for c in checks.values())


def test_expired_secret(sim: SimHandle) -> None:
    control(sim, "POST", f"/_sim/apps/{sim.tenant_id}/{sim.client_id}/expire-secret")
    checks = doctor(sim)
    assert_token_failure(checks, "AADSTS7000222", "create a new one")


def test_unregistered_certificate(sim: SimHandle, tmp_path: Path) -> None:
    cert_file, key_file = self_signed("doctor-test").write(tmp_path)
    checks = doctor(
        sim, client_secret=None, certificate_file=cert_file, certificate_key_file=key_file
    )
    assert_token_failure(checks, "AADSTS700027", "upload the public certificate")


def test_no_admin_consent_means_no_roles(sim: SimHandle) -> None:
    set_permissions(sim, [])
    checks = doctor(sim)
    assert checks["token"].ok is True
    assert checks["admin consent"].ok is False
    assert "Grant admin consent" in checks["admin consent"].fix
    assert_skipped(checks, ("Mail.ReadWrite", "User.Read.All", "mailbox", *LATER), "admin consent")
    assert code_of(checks) == 1


def test_mail_readwrite_missing(sim: SimHandle) -> None:
    set_permissions(sim, ["Mail.Send", "User.Read.All"])
    checks = doctor(sim)
    assert checks["Mail.ReadWrite"].ok is False
    assert "Application permissions > Mail.ReadWrite" in checks["Mail.ReadWrite"].fix
    # Independent steps still ran; the mailbox itself cannot be read without it.
    assert checks["Mail.Send"].ok is True
    assert checks["User.Read.All"].ok is True
    assert_skipped(checks, ("mailbox",), "Mail.ReadWrite")
    assert_skipped(checks, LATER, "mailbox")
    assert code_of(checks) == 1


def test_mail_send_missing(sim: SimHandle) -> None:
    set_permissions(sim, ["Mail.ReadWrite", "User.Read.All"])
    checks = doctor(sim)
    assert checks["Mail.Send"].ok is False
    assert "Application permissions > Mail.Send" in checks["Mail.Send"].fix
    assert all(checks[n].ok for n in ("Mail.ReadWrite", "User.Read.All", "mailbox", *LATER))
    assert code_of(checks) == 1


def test_user_read_all_missing(sim: SimHandle) -> None:
    set_permissions(sim, ["Mail.ReadWrite", "Mail.Send"])
    add_agent(sim, granted=True)
    checks = doctor(sim, send_as=[AGENT], send_test=True)
    assert checks["User.Read.All"].ok is False
    assert "Application permissions > User.Read.All" in checks["User.Read.All"].fix
    assert all(checks[n].ok for n in ("Mail.ReadWrite", "Mail.Send", "mailbox", *LATER))
    # The agent cannot be looked up, but the grant is still proven by the test send.
    assert checks[f"send-as {AGENT}"].ok is True
    assert code_of(checks) == 1


def test_mailbox_blocked_by_application_access_policy(sim: SimHandle) -> None:
    policy = {"access_right": "RestrictAccess", "mailboxes": ["helpdesk@contoso.com"]}
    control(sim, "PUT", f"/_sim/apps/{sim.tenant_id}/{sim.client_id}/access-policy", json=policy)
    checks = doctor(sim)
    assert checks["mailbox"].ok is False
    assert "application access policy" in checks["mailbox"].detail
    assert "Test-ApplicationAccessPolicy -Identity support@contoso.com" in checks["mailbox"].fix
    assert checks["User.Read.All"].ok is True  # the directory is not behind the policy
    assert checks["Mail.ReadWrite"].ok is None
    assert_skipped(checks, LATER, "mailbox")
    assert code_of(checks) == 1


def test_mailbox_not_enabled(sim: SimHandle) -> None:
    address = "nolicence@contoso.com"
    control(sim, "POST", "/_sim/users", json={"address": address, "mailbox": False})
    base = sim.config().mailbox(BOX)
    box = MailboxConfig.model_validate(base.model_dump() | {"address": address})
    config = MailpipeConfig(graph=sim.config().graph, mailboxes=(box,))
    (report,) = run_doctor(config)
    checks = {c.name: c for c in report.checks}
    assert checks["mailbox"].ok is False
    assert "MailboxNotEnabledForRESTAPI" in checks["mailbox"].detail
    assert "licence" in checks["mailbox"].fix
    assert_skipped(checks, LATER, "mailbox")
    assert code_of(checks) == 1


def test_folder_missing(sim: SimHandle) -> None:
    checks = doctor(sim, folder="Support Queue")
    assert checks["folder"].ok is False
    assert "correct folder in its [[mailboxes]] entry" in checks["folder"].fix
    assert checks["quarantine folder"].ok is True  # the next folder step still ran
    assert code_of(checks) == 1


def test_copy_folder_missing(sim: SimHandle) -> None:
    checks = doctor(sim, copy_to_folder="Handled")
    assert checks["copy folder"].ok is False
    assert "correct copy_to_folder" in checks["copy folder"].fix
    assert checks["folder"].ok is True
    assert checks["quarantine folder"].ok is True
    assert code_of(checks) == 1
    # Read-only: the doctor did not create it.
    assert "Handled" not in control(sim, "GET", f"/_sim/mailboxes/{BOX}")["folders"]


def test_move_folder_missing(sim: SimHandle) -> None:
    checks = doctor(sim, after_processing="move:Done")
    assert checks["move folder"].ok is False
    assert "correct after_processing" in checks["move folder"].fix
    assert code_of(checks) == 1


def test_send_as_not_granted(sim: SimHandle) -> None:
    add_agent(sim, granted=False)
    unproven = doctor(sim, send_as=[AGENT])[f"send-as {AGENT}"]
    assert unproven.ok is None  # a draft is accepted either way, as in Exchange
    tested = doctor(sim, send_as=[AGENT], send_test=True)
    step = tested[f"send-as {AGENT}"]
    assert step.ok is False
    assert "ErrorSendAsDenied" in step.detail
    assert f"Add-RecipientPermission -Identity {AGENT} -Trustee {BOX}" in step.fix
    assert code_of(tested) == 1
    state = control(sim, "GET", f"/_sim/mailboxes/{BOX}")
    assert state["sent"] == 0
    assert state["folders"]["drafts"] == 0


def test_send_test_sends_one_message_to_the_agent_only(sim: SimHandle) -> None:
    add_agent(sim, granted=True)
    checks = doctor(sim, send_as=[AGENT], send_test=True)
    assert checks[f"send-as {AGENT}"].ok is True
    assert code_of(checks) == 0
    (sent,) = control(sim, "GET", f"/_sim/mailboxes/{BOX}/sent")
    assert sent["to"] == [AGENT]
    assert AGENT in sent["from"]
    assert control(sim, "GET", f"/_sim/mailboxes/{BOX}")["folders"]["sentitems"] == 0


def test_agent_not_in_the_directory(sim: SimHandle) -> None:
    checks = doctor(sim, send_as=["ghost@contoso.com"])
    step = checks["send-as ghost@contoso.com"]
    assert step.ok is False
    assert "not a user of this tenant" in step.detail
    assert "remove ghost@contoso.com in send_as" in step.fix
