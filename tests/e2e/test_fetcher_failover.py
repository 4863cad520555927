"""Two fetcher processes on one configuration, with the ticketer: each mailbox is polled by
one of them (never two delta rounds at once on a mailbox), the two mailboxes one each;
``kill -9`` of one, and the other takes its mailbox over: mail that arrives afterwards still
gets its outcome, every mail exactly one, the inboxes empty. On PostgreSQL (the shared delta
links or history ids), on both providers. One poller at a time is what the simulator sees:
on Graph never two delta rounds open at once on a mailbox (``MailWorld.open_delta_rounds``);
on Gmail, whose history pages are stateless, the token reading a mailbox's history changes no
more often than the mailbox's lease was taken (``MailWorld.poller_changes``), where two
fetchers polling it would take turns at every poll."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.harness import Stack, pipeline
from tests.integration.fetcher_rig import mail

FETCHERS = ("fetcher-1", "fetcher-2")
WAVE = 30


def holders(stack: Stack) -> dict[str, str]:
    """Mailbox → the fetcher that took its lease last (the logs are kept across runs)."""
    taken = sorted(
        (event["timestamp"], event["mailbox"], name)
        for name in FETCHERS
        for event in stack.log_events(name)
        if event["event"] == "mailbox lease taken"
    )
    return {mailbox: name for _, mailbox, name in taken}


def lease_takes(stack: Stack) -> Counter[str]:
    return Counter(
        event["mailbox"]
        for name in FETCHERS
        for event in stack.log_events(name)
        if event["event"] == "mailbox lease taken"
    )


def assert_one_poller_at_a_time(stack: Stack) -> None:
    stats = stack.stats()
    rounds = stack.world.open_delta_rounds(stats)
    changes = stack.world.poller_changes(stats)
    assert rounds is not None or changes is not None, "the simulator sees pollers somehow"
    assert rounds is None or rounds == dict.fromkeys(stack.mailboxes, 1), rounds
    takes = lease_takes(stack)
    too_many = {box: n for box, n in (changes or {}).items() if n > takes[box] - 1}
    assert not too_many, f"history readers changed more often than leases were taken: {too_many}"


def seed_wave(stack: Stack, first: int, count: int) -> set[tuple[str, str]]:
    seeded = set()
    for n in range(first, first + count):
        box = stack.mailboxes[n % len(stack.mailboxes)]
        seeded.add((box, stack.seed(mail(n, subject=f"Failover request {n}", to=box), box)))
    return seeded


def wait_handled(stack: Stack, seeded: set[tuple[str, str]]) -> None:
    stack.wait_until(
        lambda: (
            set(stack.processed_log()) >= seeded
            and all(stack.folders(box)["inbox"] == 0 for box in stack.mailboxes)
        ),
        timeout_s=300,
        what=f"{len(seeded)} mails handled",
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_kill_9_of_the_polling_fetcher_hands_its_mailboxes_to_the_other(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path, amqp_url, database_url=database_url, provider=provider, poll_interval_s=0.5
    ) as stack:
        seeded = seed_wave(stack, 0, WAVE)
        for name in FETCHERS:
            stack.start("fetcher", name=name)
        stack.start("ticketer")
        for name in (*FETCHERS, "ticketer"):
            stack.wait_ready(name)
        wait_handled(stack, seeded)
        assert_one_poller_at_a_time(stack)
        # The first fetcher up took both mailboxes; it hands one on within a few refreshes.
        stack.wait_until(
            lambda: set(holders(stack).values()) == set(FETCHERS), what="one mailbox each"
        )
        before = holders(stack)
        assert set(before) == set(stack.mailboxes), "every mailbox has a holder"
        victim = before[stack.mailboxes[0]]
        # New mail arrives, and the fetcher polling the first mailbox dies without a word:
        # the survivor takes it over and polls both.
        seeded |= seed_wave(stack, 100, WAVE)
        stack.kill(victim)
        survivor = next(name for name in FETCHERS if name != victim)
        stack.wait_until(
            lambda: set(holders(stack).values()) == {survivor}, what=f"{survivor} holds all"
        )
        seeded |= seed_wave(stack, 200, WAVE)
        wait_handled(stack, seeded)
        log = stack.processed_log()
        assert set(log) == seeded, "one outcome per mail, none for mail never seeded"
        assert Counter(row["outcome"] for row in log.values()) == {"created": len(seeded)}
        assert len(stack.records()) == len(seeded), "no record made twice"
        assert_one_poller_at_a_time(stack)
