"""The fair share: how many mailboxes a fetcher hands back, and which."""

from __future__ import annotations

from libs.common.broker.leaseshare import fair_share, to_hand_back

BOXES = [f"box{n}" for n in range(10)]


def since_all(at: float = 0.0) -> dict[str, float]:
    return dict.fromkeys(BOXES, at)


def test_fair_share_is_the_rounded_up_split() -> None:
    assert fair_share(10, 1) == 10
    assert fair_share(10, 2) == 5
    assert fair_share(10, 3) == 4
    assert fair_share(3, 5) == 1
    assert fair_share(10, 0) == 10, "no count yet: a fetcher keeps what it holds"


def test_a_lone_fetcher_keeps_everything() -> None:
    assert to_hand_back(since_all(), mailboxes=10, fetchers=1, now=100.0, min_hold_s=1.0) == []


def test_it_hands_back_exactly_the_excess() -> None:
    back = to_hand_back(since_all(), mailboxes=10, fetchers=2, now=100.0, min_hold_s=1.0)
    assert len(back) == 5 and set(back) <= set(BOXES)
    back = to_hand_back(since_all(), mailboxes=10, fetchers=3, now=100.0, min_hold_s=1.0)
    assert len(back) == 6, "keeps ceil(10/3) = 4"


def test_at_or_below_the_share_nothing_goes() -> None:
    five = dict.fromkeys(BOXES[:5], 0.0)
    assert to_hand_back(five, mailboxes=10, fetchers=2, now=100.0, min_hold_s=1.0) == []
    four = dict.fromkeys(BOXES[:4], 0.0)
    assert to_hand_back(four, mailboxes=10, fetchers=3, now=100.0, min_hold_s=1.0) == []


def test_the_most_recently_taken_go_first_then_by_name() -> None:
    held = {"a": 1.0, "b": 5.0, "c": 3.0, "d": 5.0}
    back = to_hand_back(held, mailboxes=4, fetchers=2, now=100.0, min_hold_s=1.0)
    assert back == ["b", "d"]
    assert back == to_hand_back(held, mailboxes=4, fetchers=2, now=100.0, min_hold_s=1.0)


def test_a_token_just_taken_stays_one_refresh() -> None:
    held = {"a": 0.0, "b": 0.0, "c": 99.5}
    # Over by one; the most recent arrived within the refresh, so one held longer goes.
    assert to_hand_back(held, mailboxes=4, fetchers=2, now=100.0, min_hold_s=1.0) == ["a"]
    fresh = {"a": 99.5, "b": 99.6, "c": 99.7}
    assert to_hand_back(fresh, mailboxes=4, fetchers=2, now=100.0, min_hold_s=1.0) == []
    assert to_hand_back(fresh, mailboxes=4, fetchers=2, now=101.0, min_hold_s=1.0) == ["c"]


def test_handing_back_converges_with_three_fetchers() -> None:
    """The broker's rotation simulated: a token handed back goes to the next in its queue's
    line and the giver goes last; every fetcher decides once per refresh. It settles, every
    fetcher at most at its share, and no token moves after that."""
    lines = {box: [0, 1, 2] for box in BOXES}  # fetcher 0 started first and took everything
    taken = dict.fromkeys(BOXES, 0.0)
    moves = []
    for tick in range(1, 30):
        for fetcher in range(3):
            held = {box: taken[box] for box, line in lines.items() if line[0] == fetcher}
            for box in to_hand_back(held, mailboxes=10, fetchers=3, now=tick, min_hold_s=1.0):
                lines[box] = [*lines[box][1:], fetcher]
                taken[box] = float(tick)
                moves.append(tick)
    counts = sorted(sum(1 for line in lines.values() if line[0] == f) for f in range(3))
    assert all(n <= 4 for n in counts) and sum(counts) == 10, counts
    assert max(moves) < 10, "settled within a few refreshes, then still"
