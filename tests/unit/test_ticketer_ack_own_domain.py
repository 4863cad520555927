"""``auto_ack_own_domain``: an internal helpdesk may acknowledge colleagues at exactly the
mailbox's domain; by default nobody at our own domains is answered, and with the option still
never our mailboxes, subdomains, lookalikes or machine senders."""

from __future__ import annotations

import pytest

from libs.common.contracts import Address
from tests.unit.test_ticketer_handler import BOX, ack_rig, mail

DOMAIN = BOX.rpartition("@")[2]


def acked(sender: str, **box: object) -> bool:
    rig, _ = ack_rig(**box)
    rig.ticketer.handle(mail(1, **{"from": Address(address=sender, name="Someone")}))
    return [str(j.to[0].address) for j in rig.outbox.jobs] == [sender]


def test_by_default_a_colleague_at_our_domain_gets_no_acknowledgement() -> None:
    assert not acked(f"juergen@{DOMAIN}")


def test_with_the_option_a_colleague_at_our_domain_is_acknowledged() -> None:
    assert acked(f"juergen@{DOMAIN}", auto_ack_own_domain=True)
    assert acked(f"Juergen@{DOMAIN.upper()}", auto_ack_own_domain=True)


@pytest.mark.parametrize(
    "sender",
    [
        BOX,  # the mailbox itself
        f"juergen@it.{DOMAIN}",  # a subdomain
        f"juergen@{DOMAIN}.evil.org",  # a lookalike
        f"noreply@{DOMAIN}",  # a machine sender
        f"mailer-daemon@{DOMAIN}",
    ],
)
def test_with_the_option_the_rest_of_our_domains_still_get_none(sender: str) -> None:
    assert not acked(sender, auto_ack_own_domain=True)


def test_with_the_option_our_mailbox_spelled_with_invisible_characters_gets_none() -> None:
    local, _, domain = BOX.partition("@")
    assert not acked(f"{local}\u200b@{domain}", auto_ack_own_domain=True)
    assert not acked(f"{local.upper()}\u00ad@{domain}", auto_ack_own_domain=True)
