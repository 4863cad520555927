"""``mailpipe doctor``'s Google steps against the Gmail simulator, one setup failure per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from libs.common.settings import MailpipeConfig
from libs.common.setup_check.steps import Check
from libs.gmailsim.accounts import PROJECT_NUMBER
from libs.gmailsim.config import config_toml
from libs.gmailsim.testing import GmailSimHandle
from mailpipe.doctor_run import MailboxReport, exit_code, run_doctor
from tests.integration.test_doctor_cli import mailpipe

BOX, AGENT = "support@example.com", "agent@example.com"
SCOPE = "https://www.googleapis.com/auth/"
DELEGATED = [SCOPE + s for s in ("gmail.modify", "gmail.send", "gmail.settings.basic")]
DELEGATIONS = ("delegation gmail.modify", "delegation gmail.send")
LATER = ("directory lookups", "folder", "quarantine folder")


def doctor(config: MailpipeConfig, address: str = BOX) -> dict[str, Check]:
    (report,) = run_doctor(config, mailbox=address)
    return {c.name: c for c in report.checks}


def failed(checks: dict[str, Check]) -> bool:
    config_ok = Check("config", True, "loaded")
    return exit_code(config_ok, [MailboxReport(BOX, tuple(checks.values()))]) == 1


def control(gsim: GmailSimHandle, method: str, path: str, **kwargs: Any) -> Any:
    with gsim.control() as c:
        response = c.request(method, path, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def assert_skipped(checks: dict[str, Check], names: tuple[str, ...], needs: str) -> None:
    for name in names:
        assert checks[name].detail == f"skipped: needs {needs}", name


def test_a_good_setup_passes_every_step(gsim: GmailSimHandle) -> None:
    checks = doctor(gsim.config(send_as=(AGENT,)))
    assert list(checks) == [
        "service account key",
        *DELEGATIONS,
        "mailbox",
        *LATER,
        f"send-as {AGENT}",
    ]
    assert all(c.ok for c in checks.values()), checks
    assert gsim.key_info["client_email"] in checks["service account key"].detail
    assert not failed(checks)


def test_a_scope_not_delegated_names_the_client_id_and_the_scopes(gsim: GmailSimHandle) -> None:
    client_id = gsim.key_info["client_id"]
    control(gsim, "PUT", f"/_sim/delegation/{client_id}", json={"scopes": [SCOPE + "gmail.modify"]})
    checks = doctor(gsim.config(send_as=(AGENT,)))
    assert checks["delegation gmail.modify"].ok is True
    send = checks["delegation gmail.send"]
    assert send.ok is False and "unauthorized_client" in send.detail
    assert send.fix.startswith("Google Admin console → Security → Access and data control")
    assert f"add client ID {client_id} with scopes {SCOPE}gmail.modify,{SCOPE}gmail.send" in (
        send.fix
    )
    assert checks["mailbox"].ok is True  # reading needs gmail.modify only
    agent = checks[f"send-as {AGENT}"]
    assert agent.ok is False and client_id in agent.fix
    assert failed(checks)


def test_directory_lookups_not_delegated_warn_with_the_scope_to_add(gsim: GmailSimHandle) -> None:
    client_id = gsim.key_info["client_id"]
    control(gsim, "PUT", f"/_sim/delegation/{client_id}", json={"scopes": DELEGATED})
    checks = doctor(gsim.config())
    directory = checks["directory lookups"]
    assert directory.ok is None and not directory.skipped  # a warning, not a failure
    assert "unauthorized_client" in directory.detail and "not enriched" in directory.detail
    assert directory.fix == (
        "Google Admin console → Security → Access and data control → API controls → "
        f"Domain-wide delegation: add the scope {SCOPE}admin.directory.user.readonly to "
        f"client ID {client_id}"
    )
    assert checks["folder"].ok is True and not failed(checks)


def test_a_key_that_does_not_load_stops_the_steps_and_is_never_shown(
    gsim: GmailSimHandle,
) -> None:
    broken = dict(gsim.key_info, private_key="-----BEGIN PRIVATE KEY-----\nnot-a-key-XYZ\n")
    config = gsim.config(service_account_key=SecretStr(json.dumps(broken)))
    checks = doctor(config)
    key = checks["service account key"]
    assert key.ok is False and "does not load" in key.detail and "Keys" in key.fix
    assert_skipped(checks, (*DELEGATIONS, "mailbox", *LATER), "service account key")
    assert not any("not-a-key-XYZ" in c.detail + c.fix for c in checks.values())


def test_a_revoked_key_fails_the_delegation_with_the_cloud_console_fix(
    gsim: GmailSimHandle,
) -> None:
    info = control(gsim, "POST", "/_sim/service-accounts", json={"scopes": DELEGATED})
    path = f"/_sim/service-accounts/{info['client_id']}/keys/{info['private_key_id']}"
    control(gsim, "DELETE", path)
    checks = doctor(gsim.config(service_account_key=SecretStr(json.dumps(info))))
    assert checks["service account key"].ok is True  # it parses: only Google can refuse it
    modify = checks["delegation gmail.modify"]
    assert modify.ok is False and "invalid_grant" in modify.detail
    assert "Service accounts → Keys" in modify.fix
    assert info["private_key"] not in repr(checks)


def test_an_unknown_mailbox_is_the_mailbox_step(gsim: GmailSimHandle) -> None:
    config = gsim.config().model_copy()
    nobody = config.mailboxes[0].model_copy(update={"address": "nobody@example.com"})
    checks = doctor(config.model_copy(update={"mailboxes": (nobody,)}), "nobody@example.com")
    mailbox = checks["mailbox"]
    assert mailbox.ok is False and "not a user of the Workspace" in mailbox.detail
    assert_skipped(checks, (*DELEGATIONS, *LATER), "mailbox")


def test_the_gmail_api_not_enabled_fails_the_mailbox_step_with_the_cloud_console_fix(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "POST", "/_sim/faults", json={"gmail_api_disabled": True})
    checks = doctor(gsim.config())
    assert all(checks[name].ok for name in DELEGATIONS)  # tokens do not need the API
    mailbox = checks["mailbox"]
    assert mailbox.ok is False and "accessNotConfigured" in mailbox.detail
    assert "Gmail API is not enabled" in mailbox.detail
    assert mailbox.fix == (
        "Google Cloud console → APIs & Services → Library → Gmail API → Enable, in project "
        f"{PROJECT_NUMBER} (the service account's); it takes a few minutes to apply"
    )
    assert_skipped(checks, LATER, "mailbox")
    assert failed(checks)


def test_the_admin_sdk_api_not_enabled_warns_on_directory_lookups(gsim: GmailSimHandle) -> None:
    control(gsim, "POST", "/_sim/faults", json={"directory_api_disabled": True})
    checks = doctor(gsim.config())
    directory = checks["directory lookups"]
    assert directory.ok is None and "accessNotConfigured" in directory.detail
    assert directory.fix.startswith(
        "Google Cloud console → APIs & Services → Library → Admin SDK API → Enable, in project "
        f"{PROJECT_NUMBER}"
    )
    assert checks["mailbox"].ok is True and not failed(checks)


def test_a_user_without_gmail_fails_the_mailbox_step_with_turn_gmail_on(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "PUT", f"/_sim/mailboxes/{BOX}/gmail-service", json={"enabled": False})
    checks = doctor(gsim.config())
    assert all(checks[name].ok for name in DELEGATIONS)
    mailbox = checks["mailbox"]
    assert mailbox.ok is False
    assert mailbox.detail == f"{BOX} has no Gmail mailbox the API can reach (failedPrecondition)"
    assert mailbox.fix.startswith(
        "Admin console → Apps → Google Workspace → Gmail → Service status: turn Gmail on "
        f"for {BOX}'s organizational unit"
    )
    assert_skipped(checks, LATER, "mailbox")
    assert failed(checks)


def test_a_missing_watched_label_fails_the_folder_step(gsim: GmailSimHandle) -> None:
    checks = doctor(gsim.config(folder="Helpdesk"))
    folder = checks["folder"]
    assert folder.ok is False and "Create new label" in folder.fix and "'Helpdesk'" in folder.fix
    control(
        gsim,
        "POST",
        f"/_sim/mailboxes/{BOX}/messages?labels=Helpdesk",
        content=b"Subject: x\r\n\r\nx",
    )
    assert doctor(gsim.config(folder="Helpdesk"))["folder"].ok is True


def test_an_unknown_agent_is_named(gsim: GmailSimHandle) -> None:
    checks = doctor(gsim.config(send_as=("ghost@example.com",)))
    agent = checks["send-as ghost@example.com"]
    assert agent.ok is False and "correct or remove ghost@example.com" in agent.fix


def test_alias_mode_checks_each_alias_is_verified(gsim: GmailSimHandle) -> None:
    agents = ("ok@partner.org", "pending@partner.org", "absent@partner.org")
    body = {"allowed": ["ok@partner.org"], "pending": ["pending@partner.org"]}
    control(gsim, "PUT", f"/_sim/mailboxes/{BOX}/send-as", json=body)
    checks = doctor(gsim.config(google_send_as="alias", send_as=agents))
    assert checks["delegation gmail.settings.basic"].ok is True
    assert checks["send-as ok@partner.org"].ok is True
    pending = checks["send-as pending@partner.org"]
    assert pending.ok is False and "pending" in pending.detail and "verification" in pending.fix
    absent = checks["send-as absent@partner.org"]
    assert absent.ok is False and "Send mail as → Add another email address" in absent.fix


def test_the_command_shows_googles_steps_and_exits_by_them(
    gsim: GmailSimHandle, tmp_path: Path
) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(gsim.key_info))
    path = tmp_path / "mailpipe.toml"
    path.write_text(config_toml(gsim.root_url, gsim.ca_bundle, key_file, [BOX]))
    done = mailpipe("doctor", "--config", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    steps = {row["step"]: row["ok"] for row in json.loads(done.stdout) if row["mailbox"] == BOX}
    assert steps == dict.fromkeys(["service account key", *DELEGATIONS, "mailbox", *LATER], True)
    client_id = gsim.key_info["client_id"]
    control(gsim, "PUT", f"/_sim/delegation/{client_id}", json={"scopes": []})
    failed_run = mailpipe("doctor", "--config", str(path))
    assert failed_run.returncode == 1
    assert "✗ delegation gmail.modify:" in failed_run.stdout
    assert "fix: Google Admin console → Security" in failed_run.stdout
    assert gsim.key_info["private_key"].splitlines()[1] not in failed_run.stdout + done.stdout
