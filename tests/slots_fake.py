"""An in-memory stand-in for the shared send slots (``services.sender.sendrate.SendSlotsPort``)
and a stop event that moves a fake clock instead of sleeping: the handler's unit tests wait
for the rate without waiting.

Knobs tests turn: ``fail_takes`` (the next N ``take`` calls fail as a database outage would);
``stop_after`` (the stop event is set once this many seconds have been waited); ``on_wait``
(runs instead of moving the clock, for what happens while a job waits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from libs.common.db.errors import StoreUnavailable
from services.sender.domain.rate import RateLimit, slot_wait
from services.sender.sendrate import SlotAnswer


@dataclass
class FakeClock:
    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class FakeStop:
    """``threading.Event``'s ``wait`` on the fake clock."""

    clock: FakeClock
    stop_after: float | None = None
    on_wait: Callable[[float], None] | None = None
    is_set_: bool = False

    def wait(self, timeout: float | None = None) -> bool:
        if self.is_set_:
            return True
        if timeout:
            (self.on_wait or self.clock.sleep)(timeout)
        waited = sum(self.clock.slept)
        if self.stop_after is not None and waited >= self.stop_after:
            self.is_set_ = True
        return self.is_set_


@dataclass
class FakeSendSlots:
    clock: FakeClock
    slots: dict[int, tuple[str, float]] = field(default_factory=dict)
    fail_takes: int = 0
    takes: int = 0

    def take(self, mailbox: str, rate: RateLimit) -> SlotAnswer:
        self.takes += 1
        if self.fail_takes > 0:
            self.fail_takes -= 1
            raise StoreUnavailable("database unavailable: the server closed the connection")
        mine = [t for box, t in self.slots.values() if box == mailbox.lower()]
        wait = slot_wait(mine, self.clock.now, rate)
        if wait > 0:
            return SlotAnswer(None, wait)
        slot_id = len(self.slots) + 1
        self.slots[slot_id] = (mailbox.lower(), self.clock.now)
        return SlotAnswer(slot_id, 0.0)

    def stamp(self, slot_id: int) -> None:
        mailbox, _ = self.slots[slot_id]
        self.slots[slot_id] = (mailbox, self.clock.now)
