"""The provider factory: one mailbox per address, the Microsoft adapter for "microsoft"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

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


def test_microsoft_is_the_default_and_only_provider() -> None:
    assert box("a@contoso.com").provider == "microsoft"
    with pytest.raises(ValidationError, match="provider"):
        box("a@contoso.com", provider="google")


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
