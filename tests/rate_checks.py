"""How many sends the busiest window holds: the check every test of the sending rate makes."""

from __future__ import annotations

import bisect
from collections.abc import Iterable


def busiest_window(times: Iterable[float], window_s: float) -> int:
    """The most sends in any half-open window ``[t, t + window_s)``."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window_s) - i for i, t in enumerate(ordered)), default=0
    )
