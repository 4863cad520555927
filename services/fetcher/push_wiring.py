"""The fetcher's subscription keeper built on its pieces: the mailboxes' Graph clients, the
shared database (where the endpoint checks clientState), the leases and the schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from libs.common.broker.hints import HintListener
from libs.common.db.push_subscriptions import PushSubscriptionStore
from libs.common.settings import MailpipeConfig
from services.fetcher.push import SubscriptionKeeper

if TYPE_CHECKING:
    from services.fetcher.service import Fetcher


def open_push(fetcher: Fetcher, engine: Any) -> SubscriptionKeeper:
    """``engine``: the shared database's (the fetcher's cursors' own)."""
    config = fetcher.config
    assert config.push is not None

    def held(address: str) -> bool:
        # Not lease.wait: a stale lease (the broker silent a moment under load) only pauses
        # the rounds; ending the subscription then cost a delete and a new handshake each.
        return fetcher.lease.keeps(address)

    def hurry(address: str) -> None:
        fetcher.schedule.hurry(address)

    keeper = SubscriptionKeeper(
        config.push,
        lambda address: fetcher.graphs[address],
        PushSubscriptionStore(engine),
        held,
        hurry,
    )
    keeper.use(config.push, pushed_folders(config))
    return keeper


def pushed_folders(config: MailpipeConfig) -> dict[str, str]:
    """The watched folder of each mailbox that can be pushed: Microsoft's (Graph change
    notifications; a Google mailbox is polled, docs/push.md)."""
    return {box.address: box.folder for box in config.mailboxes if box.provider == "microsoft"}


def hint_listener(fetcher: Fetcher) -> HintListener | None:
    """What hears the hints, the schedule telling the keeper which turns they asked for."""
    if fetcher.push is None:
        return None
    fetcher.schedule.on_turn = fetcher.push.turn_started
    broker = fetcher.broker
    return HintListener(broker.connection, broker.names, fetcher.push.on_hint)
