"""The Gmail adapter's errors against the simulator: quota answers retried (honouring
Retry-After) until they pass, 403 rateLimitExceeded retried with backoff, server errors
retried within the budget, refused tokens, the Gmail API not enabled and a user without Gmail
as permanent errors with Google's fix, and the key never in a repr or a log line."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import SecretStr

from libs.common.mail import MailAuthError, MailUnavailable
from libs.gmailsim.accounts import PROJECT_NUMBER
from libs.gmailsim.testing import GmailSimHandle
from tests.gmailsim_helpers import MODIFY, SEND, mail, seed

from .gmail_adapter_helpers import BOX, control, faults, gmail_box, stats

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("status", [429, 403])
def test_an_exhausted_quota_is_waited_out(gsim: GmailSimHandle, status: int) -> None:
    ids = [seed(gsim, BOX, mail(f"Q{i}"))["id"] for i in range(4)]
    # The simulator allows less than the adapter assumes: its answers must pace the adapter.
    faults(gsim, user_units_per_s=10, retry_after_s=1, quota_status=status)
    with gmail_box(gsim) as box:
        subjects = [box.get_message(gid).subject for gid in ids]
    assert subjects == ["Q0", "Q1", "Q2", "Q3"]
    assert stats(gsim)["rate_limited"] >= 1


def test_a_403_rate_limit_exceeded_is_retried_with_backoff(gsim: GmailSimHandle) -> None:
    ids = [seed(gsim, BOX, mail(f"R{i}"))["id"] for i in range(4)]
    faults(gsim, throttle_ratio=0.5, throttle_status=403, seed=3)
    with gmail_box(gsim) as box:
        subjects = [box.get_message(gid).subject for gid in ids]
    assert subjects == ["R0", "R1", "R2", "R3"]
    answered = stats(gsim)["requests"]["GET users/{u}/messages/{id}"]
    assert answered["403"] >= 1 and answered["200"] == 4


def test_the_gmail_api_not_enabled_is_permanent_with_the_cloud_console_fix(
    gsim: GmailSimHandle,
) -> None:
    faults(gsim, gmail_api_disabled=True)
    with gmail_box(gsim) as box, pytest.raises(MailAuthError) as refused:
        box.get_folder("inbox")
    err = refused.value
    assert not err.retryable and err.about_mailbox
    assert (err.status, err.code) == (403, "accessNotConfigured")
    assert err.hint == (
        "Google Cloud console → APIs & Services → Library → Gmail API → Enable, in project "
        f"{PROJECT_NUMBER} (the service account's); it takes a few minutes to apply"
    )
    assert stats(gsim)["http_requests"] == 1  # not retried


def test_a_user_without_gmail_is_permanent_with_the_admin_console_fix(
    gsim: GmailSimHandle,
) -> None:
    control(gsim, "PUT", f"/_sim/mailboxes/{BOX}/gmail-service", json={"enabled": False})
    with gmail_box(gsim) as box, pytest.raises(MailAuthError) as refused:
        box.get_folder("inbox")
    err = refused.value
    assert not err.retryable and err.about_mailbox
    assert (err.status, err.code) == (400, "failedPrecondition")
    assert "Mail service not enabled" in err.message
    assert err.hint and "Admin console → Apps → Google Workspace → Gmail → Service status" in (
        err.hint
    )
    control(gsim, "PUT", f"/_sim/mailboxes/{BOX}/gmail-service", json={"enabled": True})
    with gmail_box(gsim) as box:
        assert box.get_folder("inbox").total_count == 0


def test_server_errors_end_as_a_retryable_error_after_the_budget(gsim: GmailSimHandle) -> None:
    gid = seed(gsim, BOX, mail("Down"))["id"]
    with gmail_box(gsim, budget_s=1.0) as box:
        box.get_folder("inbox")  # the token, before the errors start
        faults(gsim, error_ratio=1.0, error_status=500)
        with pytest.raises(MailUnavailable) as failed:
            box.get_message(gid)
    assert failed.value.retryable and failed.value.status == 500
    assert stats(gsim)["requests"]["GET users/{u}/messages/{id}"]["500"] >= 2


def test_missing_delegation_is_permanent_with_the_admin_console_fix(
    gsim: GmailSimHandle,
) -> None:
    client_id = gsim.key_info["client_id"]
    control(gsim, "DELETE", f"/_sim/delegation/{client_id}")
    with gmail_box(gsim) as box, pytest.raises(MailAuthError) as refused:
        box.get_folder("inbox")
    err = refused.value
    assert not err.retryable and err.about_mailbox and err.code == "unauthorized_client"
    assert err.hint and "Domain-wide delegation" in err.hint and client_id in err.hint


def test_a_revoked_key_is_permanent_with_the_cloud_console_fix(gsim: GmailSimHandle) -> None:
    # An account of its own: the default account's key outlives the simulator's reset.
    scopes = [MODIFY, SEND]
    info = control(
        gsim, "POST", "/_sim/service-accounts", json={"name": "revoked", "scopes": scopes}
    )
    control(
        gsim,
        "DELETE",
        f"/_sim/service-accounts/{info['client_id']}/keys/{info['private_key_id']}",
    )
    key = SecretStr(json.dumps(info))
    with gmail_box(gsim, service_account_key=key) as box, pytest.raises(MailAuthError) as refused:
        box.get_folder("inbox")
    assert refused.value.code == "invalid_grant"
    assert refused.value.hint and "Service accounts → Keys" in refused.value.hint


def test_the_key_never_shows(gsim: GmailSimHandle, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = gsim.key_info["private_key"]
    marker = key.splitlines()[1]  # a line of the key's body
    config = gsim.config()
    gid = seed(gsim, BOX, mail("Secret"))["id"]
    faults(gsim, throttle_ratio=0.5)
    with gmail_box(gsim) as box:
        box.get_message(gid)
        shown = [repr(box), repr(config), str(config), repr(config.mailboxes[0])]
    faults(gsim, throttle_ratio=0.0)
    control(gsim, "DELETE", f"/_sim/delegation/{gsim.key_info['client_id']}")
    with gmail_box(gsim) as box, pytest.raises(MailAuthError) as refused:
        box.get_folder("inbox")
    shown += [str(refused.value), repr(refused.value), caplog.text]
    assert all(marker not in text and "ya29." not in text for text in shown)
