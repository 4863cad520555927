"""``Effects``: what handling emails produces, kept until the writes behind it are committed.

Messages to publish (ProcessedEmail, RecordEvent, the auto-acknowledgement) and reports
(metrics, the "email handled" log line). A batch of emails shares one transaction; if it is
rolled back the batch is handled again, so nothing may be published or counted before the
commit: the handler collects here, commits, then reports and publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.ticketer.ports import Effect


@dataclass
class Effects:
    messages: list[Effect] = field(default_factory=list)
    reports: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, message: Effect) -> None:
        self.messages.append(message)

    def report(self, report: Callable[[], None]) -> None:
        self.reports.append(report)

    def extend(self, other: Effects) -> None:
        self.messages.extend(other.messages)
        self.reports.extend(other.reports)

    def make_reports(self) -> None:
        for report in self.reports:
            report()
