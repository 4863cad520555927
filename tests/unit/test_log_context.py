"""libs.common.logging.log_context: what structlog's bound_contextvars does, cheaper."""

from __future__ import annotations

import pytest
from structlog.contextvars import (
    bind_contextvars,
    bound_contextvars,
    clear_contextvars,
    get_contextvars,
)
from structlog.testing import capture_logs

from libs.common.logging import log_context


@pytest.fixture(autouse=True)
def _clean() -> None:
    clear_contextvars()


def test_values_inside_and_the_ones_before_after_as_structlog_does() -> None:
    seen: dict[str, list[dict[str, object]]] = {}
    for name, bind in (("ours", log_context), ("structlog", bound_contextvars)):
        clear_contextvars()
        bind_contextvars(mailbox="outer@contoso.com", service="fetcher")
        states = []
        with bind(correlation_id="m1", mailbox="inner@contoso.com"):
            states.append(get_contextvars())
            with bind(correlation_id="m2"):
                states.append(get_contextvars())
            states.append(get_contextvars())
        states.append(get_contextvars())
        seen[name] = states
    assert seen["ours"] == seen["structlog"]
    assert seen["ours"][-1] == {"mailbox": "outer@contoso.com", "service": "fetcher"}
    assert seen["ours"][1]["correlation_id"] == "m2"


def test_a_failure_inside_leaves_nothing_bound() -> None:
    with pytest.raises(RuntimeError), log_context(correlation_id="m1"):
        raise RuntimeError("boom")
    assert get_contextvars() == {}


def test_log_lines_inside_carry_the_values() -> None:
    import structlog

    merge = structlog.contextvars.merge_contextvars
    with capture_logs(processors=[merge]) as logs, log_context(correlation_id="m7"):
        structlog.get_logger().info("mail published")
    assert logs == [{"event": "mail published", "log_level": "info", "correlation_id": "m7"}]
