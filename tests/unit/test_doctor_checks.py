"""The doctor's checks over a fake probe: what each Graph answer turns into."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from libs.common.graph.errors import GraphError, error_from_response
from libs.common.mail import DirectoryUser
from libs.common.settings import GraphConfig, MailboxConfig, MailpipeConfig
from libs.common.setup_check.steps import Check, Probe, token_roles
from mailpipe.doctor_run import (
    MailboxReport,
    diagnose,
    exit_code,
    render_json,
    render_text,
    run_doctor,
)

SECRET = "very-secret-value-123"
BOX = MailboxConfig(
    address="help@contoso.com",
    tenant_id="t",
    client_id="c",
    client_secret=SECRET,
    send_as=("agent@contoso.com",),
)


def jwt(claims: object) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.c2ln"


def graph_error(status: int, code: str) -> GraphError:
    return error_from_response(status, {"error": {"code": code, "message": "no"}})


class FakeProbe:
    """Answers like a healthy mailbox unless told otherwise."""

    def __init__(self, **failures: GraphError) -> None:
        self.token = jwt({"roles": ["Mail.ReadWrite", "Mail.Send", "User.Read.All"]})
        self.failures = failures
        self.drafts: dict[str, Mapping[str, Any]] = {}
        self.sent: list[Mapping[str, Any]] = []
        self.closed = False

    def _maybe_fail(self, name: str) -> None:
        if name in self.failures:
            raise self.failures[name]

    def fresh_token(self) -> str:
        self._maybe_fail("token")
        return self.token

    def get_user(self, user: str) -> DirectoryUser:
        self._maybe_fail("user")
        return DirectoryUser(id=user)

    def first_message_id(self, folder: str = "inbox") -> str | None:
        self._maybe_fail("list")
        return "m1"

    def find_folder(self, name: str) -> str | None:
        return name

    def create_draft(self, message: Mapping[str, Any]) -> str:
        self._maybe_fail("draft_from" if "from" in message else "draft")
        self.drafts[str(len(self.drafts))] = message
        return str(len(self.drafts) - 1)

    def permanent_delete(self, message_id: str) -> bool:
        self._maybe_fail("purge")
        return self.drafts.pop(message_id, None) is not None

    def send_mail(
        self, message: Mapping[str, Any], attachments: Sequence[Any] = (), **kw: Any
    ) -> None:
        self._maybe_fail("send")
        self.sent.append(message)

    def close(self) -> None:
        self.closed = True


# mypy holds each fake to the port it stands for: a fake that drifts fails the type check.
_FAKE_PROBE: Probe = FakeProbe()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_token_roles_reads_the_claim_and_nothing_else() -> None:
    assert token_roles(jwt({"roles": ["Mail.Send"], "aud": "x"})) == frozenset({"Mail.Send"})
    assert token_roles(jwt({"aud": "x"})) == frozenset()
    assert token_roles("opaque-token") is None
    assert token_roles("a.!!!.c") is None
    assert token_roles(jwt(["not", "an", "object"])) is None


def test_a_healthy_mailbox_passes_and_leaves_no_draft() -> None:
    probe = FakeProbe()
    checks = by_name(diagnose(BOX, probe))
    assert all(c.ok for n, c in checks.items() if not n.startswith("send-as"))
    assert checks["send-as agent@contoso.com"].ok is None
    assert probe.drafts == {}
    assert probe.sent == []


def test_send_as_refused_already_at_the_draft_is_a_failure_with_the_exchange_step() -> None:
    probe = FakeProbe(draft_from=graph_error(403, "ErrorSendAsDenied"))
    step = by_name(diagnose(BOX, probe))["send-as agent@contoso.com"]
    assert step.ok is False
    assert "ErrorSendAsDenied" in step.detail
    assert "Add-RecipientPermission -AccessRights SendAs" in step.fix  # the hint of errors.py
    assert "-Identity agent@contoso.com -Trustee help@contoso.com" in step.fix


def test_an_unreadable_token_decides_nothing_and_the_calls_do() -> None:
    probe = FakeProbe()
    probe.token = "opaque"
    checks = by_name(diagnose(BOX, probe))
    assert checks["admin consent"].ok is None
    assert checks["Mail.Send"].ok is None
    assert checks["Mail.ReadWrite"].ok is True
    assert checks["mailbox"].ok is True


def test_access_denied_without_readable_roles_names_both_causes() -> None:
    probe = FakeProbe(list=graph_error(403, "ErrorAccessDenied"))
    probe.token = "opaque"
    mailbox = by_name(diagnose(BOX, probe))["mailbox"]
    assert mailbox.ok is False
    assert "Application permissions > Mail.ReadWrite" in mailbox.fix
    assert "Test-ApplicationAccessPolicy" in mailbox.fix


def test_a_draft_that_cannot_be_purged_fails_mail_readwrite() -> None:
    checks = by_name(diagnose(BOX, FakeProbe(purge=graph_error(503, "ServiceUnavailable"))))
    assert checks["Mail.ReadWrite"].ok is False
    assert checks["Mail.ReadWrite"].fix


def test_a_throttled_or_unknown_answer_is_a_failure_with_the_clients_hint() -> None:
    checks = by_name(diagnose(BOX, FakeProbe(list=graph_error(500, "InternalServerError"))))
    assert checks["mailbox"].ok is False
    assert "retried later" in checks["mailbox"].fix
    assert checks["folder"].detail == "skipped: needs mailbox"


def test_secrets_are_redacted_from_every_line() -> None:
    leaky = error_from_response(400, {"error": {"code": "X", "message": f"echo {SECRET}"}})
    config = MailpipeConfig(graph=GraphConfig(), mailboxes=(BOX,))
    probe = FakeProbe(token=leaky)
    reports = run_doctor(config, probe_factory=lambda graph, box: probe)
    config_ok = Check("config", True, "loaded")
    assert probe.closed
    assert SECRET not in render_text(config_ok, reports)
    assert SECRET not in render_json(config_ok, reports)
    assert "echo ***" in render_text(config_ok, reports)


def test_exit_codes_and_text_marks() -> None:
    ok, failed = Check("config", True, "loaded"), Check("config", False, "bad", "fix it")
    report = MailboxReport(
        "help@contoso.com",
        (
            Check("token", True, "issued"),
            Check("mailbox", False, "blocked", "add it to the policy"),
            Check("folder", None, "skipped: needs mailbox"),
            Check("send-as a@contoso.com", None, "cannot be proven", "run --send-test"),
        ),
    )
    assert exit_code(failed, []) == 2
    assert exit_code(ok, [report]) == 1
    assert exit_code(ok, [MailboxReport("x", (report.checks[0], report.checks[3]))]) == 0
    text = render_text(ok, [report]).splitlines()
    assert text == [
        "✓ config: loaded",
        "help@contoso.com",
        "  ✓ token: issued",
        "  ✗ mailbox: blocked",
        "      fix: add it to the policy",
        "  - folder: skipped: needs mailbox",
        "  ? send-as a@contoso.com: cannot be proven",
        "      fix: run --send-test",
    ]
