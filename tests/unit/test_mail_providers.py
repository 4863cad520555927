"""The provider factory: one mailbox per address, the Microsoft adapter for "microsoft", the
Gmail adapter for "google"."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from libs.common.gmail import GmailMail
from libs.common.graph import GraphMail
from libs.common.mail import Mailbox, MailProvider, open_mailbox, open_provider
from libs.common.settings import MailboxConfig, MailpipeConfig


def box(address: str, **extra: object) -> MailboxConfig:
    data = {"address": address, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailboxConfig.model_validate(data | extra)


def test_a_provider_gives_one_mailbox_per_address_and_closes_them() -> None:
    config = MailpipeConfig(mailboxes=(box("a@contoso.com"), box("b@contoso.com")))
    provider: MailProvider = open_provider(config)
    first = provider(config.mailbox("a@contoso.com"))
    assert provider(config.mailbox("a@contoso.com")) is first
    assert provider(config.mailbox("b@contoso.com")) is not first
    assert isinstance(first, GraphMail) and first.address == "a@contoso.com"
    provider.close()
    assert provider(config.mailbox("a@contoso.com")) is not first  # made again after close
    provider.close()


def test_open_mailbox_is_a_mailbox_of_its_own() -> None:
    config = MailpipeConfig(mailboxes=(box("a@contoso.com"),))
    mailbox: Mailbox = open_mailbox(config, config.mailbox("a@contoso.com"))
    try:
        assert isinstance(mailbox, GraphMail)
    finally:
        mailbox.close()


def test_microsoft_is_the_default_provider_and_google_takes_no_microsoft_credential() -> None:
    assert box("a@contoso.com").provider == "microsoft"
    with pytest.raises(ValidationError, match="tenant_id"):
        box("a@contoso.com", provider="google")
    with pytest.raises(ValidationError, match="provider"):
        box("a@contoso.com", provider="yahoo")


def test_a_google_mailbox_gets_the_gmail_adapter() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "mailpipe@project.iam.gserviceaccount.com",
        "client_id": "1234",
        "private_key_id": "k1",
        "private_key": pem,
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    google = MailboxConfig.model_validate(
        {
            "address": "help@example.com",
            "provider": "google",
            "service_account_key": json.dumps(info),
        }
    )
    config = MailpipeConfig(mailboxes=(google, box("a@contoso.com")))
    provider = open_provider(config)
    try:
        gmail = provider(config.mailbox("help@example.com"))
        assert isinstance(gmail, GmailMail) and gmail.address == "help@example.com"
        assert isinstance(provider(config.mailbox("a@contoso.com")), GraphMail)
        assert "PRIVATE KEY" not in repr(gmail) + repr(google)
    finally:
        provider.close()


def test_a_changed_mailbox_gets_a_new_client_and_the_old_one_is_closed_last() -> None:
    old = box("a@contoso.com", client_secret="old")
    provider = open_provider(MailpipeConfig(mailboxes=(old,)))
    first = provider(old)
    assert provider(box("a@contoso.com", client_secret="old")) is first  # same settings
    renewed = box("a@contoso.com", client_secret="new")
    second = provider(renewed)
    assert second is not first  # a new secret never gets the old secret's cached token
    assert provider(renewed) is second
    provider.close()
