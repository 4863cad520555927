"""The fault knobs and request counts both simulators have; each subclasses them with its own
provider's (Exchange's throttling and change notifications, Gmail's quota units) and raises
its own provider's errors."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Fault = Literal["throttle", "error"]


@dataclass
class Faults:
    #: Fraction of API requests (and batch items) answered as throttled (429).
    throttle_ratio: float = 0.0
    #: Fraction of API requests answered with a server error (5xx).
    error_ratio: float = 0.0
    #: Added to every API request before it is handled.
    latency_ms: int = 0
    #: Lifetime of newly issued access tokens.
    token_ttl_s: int = 3599
    #: Retry-After (seconds) on throttling answers.
    retry_after_s: int = 1
    #: Seeds the random faults' choices when set, so a test's faults are the same every run
    #: (a test that needs a fault to happen cannot leave it to chance).
    seed: int | None = None

    def update(self, values: dict[str, Any], rng: random.Random | None = None) -> None:
        """Set knobs by name (the control API's ``/_sim/faults``); an unknown name is a
        ``ValueError`` naming the known ones. A ``seed`` given reseeds ``rng``, the random
        faults' source."""
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown fault knob {key!r}; known: {sorted(known)}")
            setattr(self, key, self.coerce(key, value))
        self.check()
        if rng is not None and values.get("seed") is not None:
            rng.seed(self.seed)

    def coerce(self, key: str, value: Any) -> Any:
        """``value`` as knob ``key`` holds it: JSON gives ints where floats are meant."""
        if key == "seed":
            return None if value is None else int(value)
        return type(getattr(self, key))(value)

    def check(self) -> None:
        """After an update: a ``ValueError`` if the knobs do not make sense together."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def draw(self, rng: random.Random) -> Fault | None:
        """The random fault this request meets, if any: throttled first, then a server error."""
        if self.throttle_ratio and rng.random() < self.throttle_ratio:
            return "throttle"
        if self.error_ratio and rng.random() < self.error_ratio:
            return "error"
        return None


def _plain(table: dict[str, Counter[int]]) -> dict[str, dict[str, int]]:
    return {route: {str(s): n for s, n in c.items()} for route, c in table.items()}


class Stats:
    """Requests and batch items by route and status, token endpoint calls."""

    def __init__(self) -> None:
        self.requests: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.batch_items: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.http_requests = 0
        #: Token endpoint calls; not API requests, so not in ``http_requests``.
        self.token_requests = 0

    def record(self, route: str, status: int, *, batch_item: bool = False) -> None:
        (self.batch_items if batch_item else self.requests)[route][status] += 1
        if not batch_item:
            self.http_requests += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "http_requests": self.http_requests,
            "requests": _plain(self.requests),
            "batch_items": _plain(self.batch_items),
            "token_requests": self.token_requests,
        }
