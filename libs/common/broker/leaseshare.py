"""How many mailboxes each fetcher holds, and which this one hands back: the decision alone,
without the broker client (the session that acts on it is :mod:`libs.common.broker.lease`).

Every fetcher holds at most its fair share, ``ceil(mailboxes / fetchers)``. One over it hands
the excess back, a mailbox at a time, to the next fetcher in that lease queue's line. A
fetcher at its share that is handed one more passes it on again, so a token may travel a few
hops before it settles. Two rules keep it from travelling for ever: only a share exceeded by
at least one is handed back (never below the fair share, never more than the excess), and only
mailboxes held for at least one refresh: a token just received waits one refresh before it can
move on, while the fetchers below their share are already in its line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def fair_share(mailboxes: int, fetchers: int) -> int:
    """The most mailboxes one of ``fetchers`` holds (a lone or uncounted fetcher: all)."""
    return math.ceil(mailboxes / max(fetchers, 1))


def to_hand_back(
    held_since: Mapping[str, float],
    *,
    mailboxes: int,
    fetchers: int,
    now: float,
    min_hold_s: float,
) -> list[str]:
    """The mailboxes to hand back now, out of ``held_since`` (mailbox → when its token came).

    The most recently taken first (long-held mailboxes stay where they are), then by name, so
    the choice is the same on every run; only among those held for ``min_hold_s`` or longer.
    """
    excess = len(held_since) - fair_share(mailboxes, fetchers)
    if excess < 1:
        return []
    settled = [box for box, since in held_since.items() if now - since >= min_hold_s]
    settled.sort(key=lambda box: (-held_since[box], box))
    return settled[:excess]
