"""The integration watcher: two configurations diffed into added / removed / changed
mailboxes, one revision query per check, a reload only when the revision moved, subscribers
told, and a database outage that keeps the current configuration and is logged once."""

from __future__ import annotations

import threading

import pytest
import structlog

from libs.common.config_watch import (
    ConfigChange,
    ConfigWatcher,
    check_interval_s,
    diff_configs,
)
from libs.common.settings import GraphConfig, MailboxConfig, MailpipeConfig


def box(address: str, **extra: object) -> MailboxConfig:
    data = {"address": address, "tenant_id": "t", "client_id": "c", "client_secret": "s"}
    return MailboxConfig.model_validate(data | extra)


def config(*boxes: MailboxConfig) -> MailpipeConfig:
    return MailpipeConfig(mailboxes=boxes)


def test_added_removed_and_changed_mailboxes() -> None:
    old = config(box("a@contoso.com"), box("b@contoso.com"), box("c@contoso.com"))
    new = config(box("a@contoso.com"), box("c@contoso.com", folder="support"), box("d@contoso.com"))
    change = diff_configs(old, new)
    assert [b.address for b in change.added] == ["d@contoso.com"]
    assert [b.address for b in change.removed] == ["b@contoso.com"]
    assert change.changed == (new.mailbox("c@contoso.com"),)  # the new values
    assert change and not change.graph
    assert change.summary() == {
        "added": ["d@contoso.com"],
        "removed": ["b@contoso.com"],
        "changed": ["c@contoso.com"],
    }


@pytest.mark.parametrize(
    "field",
    [
        {"client_secret": "s2"},
        {"poll_interval_s": 5.0},
        {"after_processing": "move:Done"},
        {"copy_to_folder": "Copies"},
        {"quarantine_folder": "Held"},
        {"send_as": ("agent@contoso.com",)},
        {"auto_acknowledge": True},
        {"ignore_senders": ("noreply@x.example",)},
        {"record_token_format": "[Case #{id}]"},
    ],
)
def test_every_field_counts_as_a_change_the_secret_too(field: dict[str, object]) -> None:
    change = diff_configs(config(box("a@contoso.com")), config(box("a@contoso.com", **field)))
    assert [b.address for b in change.changed] == ["a@contoso.com"]
    assert not change.added and not change.removed


def test_the_same_configuration_is_no_change() -> None:
    assert not diff_configs(config(box("a@contoso.com")), config(box("a@contoso.com")))
    assert not ConfigChange()


def test_a_graph_change_is_said() -> None:
    old = config(box("a@contoso.com"))
    new = MailpipeConfig(graph=GraphConfig(max_retry_s=5.0), mailboxes=old.mailboxes)
    change = diff_configs(old, new)
    assert change.graph and not change.changed


def test_the_interval_is_the_shortest_poll_between_2_and_30_seconds() -> None:
    assert check_interval_s(config(box("a@c.com", poll_interval_s=10), box("b@c.com"))) == 10
    assert check_interval_s(config(box("a@c.com", poll_interval_s=0.5))) == 2.0
    assert check_interval_s(config(box("a@c.com", poll_interval_s=300))) == 30.0
    assert check_interval_s(config()) == 30.0


class Source:
    """A fake integrations table: its revision, what a reload reads, the queries made."""

    def __init__(self, current: MailpipeConfig) -> None:
        self.revision = 1
        self.config = current
        self.down = False
        self.revisions = 0
        self.loads = 0

    def read_revision(self) -> int:
        self.revisions += 1
        if self.down:
            raise ConnectionError("database unavailable")
        return self.revision

    def load(self) -> MailpipeConfig:
        self.loads += 1
        return self.config


def test_only_a_moved_revision_reloads_and_subscribers_hear_of_it() -> None:
    start = config(box("a@contoso.com"))
    source = Source(start)
    watcher = ConfigWatcher(start, source.read_revision, source.load, seen=1)
    heard: list[tuple[MailpipeConfig, ConfigChange]] = []
    watcher.subscribe(lambda c, change: heard.append((c, change)))
    assert watcher.check() is None and watcher.check() is None
    assert (source.revisions, source.loads) == (2, 0)

    source.config, source.revision = config(box("a@contoso.com"), box("b@contoso.com")), 2
    change = watcher.check()
    assert change is not None and [b.address for b in change.added] == ["b@contoso.com"]
    assert watcher.current is source.config
    assert heard == [(source.config, change)]
    assert watcher.check() is None and source.loads == 1


def test_an_unknown_start_revision_reloads_once_and_says_nothing_when_equal() -> None:
    start = config(box("a@contoso.com"))
    source = Source(config(box("a@contoso.com")))
    watcher = ConfigWatcher(start, source.read_revision, source.load)
    heard: list[ConfigChange] = []
    watcher.subscribe(lambda _c, change: heard.append(change))
    change = watcher.check()
    assert change is not None and not change and heard == [] and source.loads == 1


def test_an_outage_keeps_the_configuration_and_is_logged_once() -> None:
    start = config(box("a@contoso.com"))
    source = Source(start)
    watcher = ConfigWatcher(start, source.read_revision, source.load, seen=1)
    source.down = True
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            assert watcher.check() is None
        assert watcher.current is start
        source.down = False
        source.config, source.revision = config(box("b@contoso.com")), 2
        assert watcher.check()
    events = [entry["event"] for entry in logs]
    assert events.count("integrations could not be checked; keeping the current configuration") == 1
    assert "integrations can be checked again" in events
    assert all("database unavailable" not in str(entry) for entry in logs)


def test_a_failing_subscriber_does_not_keep_the_others_stale() -> None:
    start = config(box("a@contoso.com"))
    source = Source(start)
    watcher = ConfigWatcher(start, source.read_revision, source.load, seen=1)

    def broken(_c: MailpipeConfig, _change: ConfigChange) -> None:
        raise RuntimeError("boom")

    heard: list[MailpipeConfig] = []
    watcher.subscribe(broken)
    watcher.subscribe(lambda c, _change: heard.append(c))
    source.config, source.revision = config(box("b@contoso.com")), 2
    watcher.check()
    assert heard == [source.config]


def test_run_checks_once_per_interval_until_stopped() -> None:
    start = config(box("a@contoso.com", poll_interval_s=0.1))
    source = Source(start)
    watcher = ConfigWatcher(start, source.read_revision, source.load, seen=1)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    stop.wait(2.5)  # the interval is at least 2 s
    stop.set()
    thread.join(timeout=5)
    assert source.revisions == 1
