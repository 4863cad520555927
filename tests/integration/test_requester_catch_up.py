"""Senders whose directory lookup was refused or failed are looked up again once the
mailbox's pause is over: granting User.Read.All later fills in the requesters of the records
made meanwhile (the console reads the requester by address)."""

from __future__ import annotations

from libs.common.mail import open_provider
from libs.graphsim.testing import SimHandle
from services.ticketer.app import user_fetcher
from services.ticketer.requesters import RequesterDirectory
from services.ticketer.store import RecordStore
from tests.broker_helpers import wait_until

BOX = "support@contoso.com"
APP = {"client_id": "late-grant", "client_secret": "s3cret-value"}


def register(sim: SimHandle, *permissions: str) -> None:
    with sim.control() as control:
        control.post(
            "/_sim/apps",
            json={"tenant_id": sim.tenant_id, **APP, "permissions": list(permissions)},
        ).raise_for_status()
        control.post(
            "/_sim/users", json={"address": "ann@contoso.com", "display_name": "Ann Archer"}
        ).raise_for_status()


def test_a_permission_granted_later_fills_in_the_requesters_skipped(
    sim: SimHandle, store: RecordStore
) -> None:
    register(sim, "Mail.ReadWrite", "Mail.Send")
    config = sim.config(**APP)
    provider = open_provider(config, retry_budget_s=1.0)
    try:
        directory = RequesterDirectory(store, user_fetcher(config, provider), pause_s=0.5)
        assert directory(BOX, "ann@contoso.com") is None  # refused: the mailbox pauses
        assert directory(BOX, "bob@customer.example") is None  # skipped while paused
        assert store.get_requester("ann@contoso.com") is None
        assert directory.owed() == 2
        register(sim, "Mail.ReadWrite", "Mail.Send", "User.Read.All")  # the admin grants it
        answered = [0]

        def caught_up() -> bool:
            answered[0] += directory.catch_up()
            return answered[0] == 2

        assert wait_until(caught_up)
    finally:
        provider.close()
    ann = store.get_requester("ann@contoso.com")
    bob = store.get_requester("bob@customer.example")
    assert ann is not None and ann.in_tenant and ann.display_name == "Ann Archer"
    assert bob is not None and not bob.in_tenant
    assert directory.owed() == 0
