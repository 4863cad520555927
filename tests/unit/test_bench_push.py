"""``python -m bench --push``: the options read, refused combinations, the ``[push]`` table the
services get (a valid PushConfig), and the notification figures from the simulator's counts."""

from __future__ import annotations

import pytest

from bench.__main__ import parse
from bench.push import RECEIVED, SAFETY_FINDS, PushPlan, counted, push_figures, service_figures
from libs.common.push_settings import PushConfig


def test_push_options_are_read() -> None:
    opts = parse(["--steady", "20", "--push", "--push-drop", "0.5", "--safety-interval", "10"])
    assert (opts.push, opts.push_drop, opts.safety_interval_s) == (True, 0.5, 10.0)
    plain = parse(["--steady", "20"])
    assert (plain.push, plain.push_drop, plain.safety_interval_s) == (False, 0.0, 300.0)


@pytest.mark.parametrize(
    "argv",
    [["--push-drop", "0.5"], ["--push", "--push-drop", "1"], ["--push", "--safety-interval", "0"]],
    ids=["drop without push", "everything dropped", "no safety interval"],
)
def test_refused_push_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2
    assert "--push" in capsys.readouterr().err


def test_the_push_table_is_a_valid_config() -> None:
    plan = PushPlan(notify_port=8123, safety_interval_s=10.0, drop_ratio=0.5)
    push = PushConfig.model_validate(plan.table())
    assert push.notification_url == "http://127.0.0.1:8123/notifications"
    assert push.safety_interval_s == 10.0
    assert plan.faults()["notify_drop_ratio"] == 0.5


def test_notification_figures_are_the_runs_counts() -> None:
    plan = PushPlan(notify_port=1, safety_interval_s=300.0, drop_ratio=0.5)
    before = {"notifications": {"sent": 3, "posts": 2, "validations": 100}}
    after = {"notifications": {"sent": 13, "posts": 6, "dropped": 9}}
    got = push_figures(plan, before, after)
    assert got["push"] is True and got["push_drop_ratio"] == 0.5
    assert (got["notifications_sent"], got["notifications_dropped"]) == (10, 9)
    assert got["notification_posts"] == 4 and got["notification_failed_deliveries"] == 0
    # Without push the statistics need not count notifications (the Gmail simulator's don't).
    assert push_figures(None, {"requests": 1}, {"requests": 2}) == {"push": False}


def test_the_services_counts_are_summed_from_their_metrics() -> None:
    notify = (
        'mailpipe_notify_notifications_total{kind="change",outcome="accepted"} 40.0\n'
        'mailpipe_notify_notifications_total{kind="change",outcome="bad_client_state"} 2.0\n'
        'mailpipe_notify_notifications_total{kind="lifecycle",outcome="accepted"} 1.0\n'
    )
    fetchers = [
        'mailpipe_fetcher_push_safety_finds_total{mailbox="a@x"} 3.0\n'
        'mailpipe_fetcher_push_hints_total{mailbox="a@x",reason="created"} 9.0\n',
        'mailpipe_fetcher_push_safety_finds_total{mailbox="b@x"} 4.0\n',
    ]
    assert counted([notify], RECEIVED) == 43.0
    assert counted(fetchers, SAFETY_FINDS) == 7.0
    assert counted([""], SAFETY_FINDS) == 0.0
    assert service_figures(None, {}) == {}, "no push, no such figures"
