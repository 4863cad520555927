"""Reading dead letters into plain data (libs/common/broker/dead.py, dead_view.py): what, why,
when, how many times; replay headers; one-line safety; no secret shown."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from libs.common.broker import dead
from libs.common.broker.dead import HEADER_REPLAYS, describe, matches, one_line, replay_headers
from libs.common.broker.dead_view import details, summary
from libs.common.broker.policy import (
    HEADER_ATTEMPT,
    HEADER_DEAD_AT,
    HEADER_DELIVERY_COUNT,
    HEADER_ERROR,
    HEADER_HINT,
    HEADER_QUEUE,
    HEADER_REASON,
    HEADER_ROUTING_KEY,
    HEADER_TRACEBACK,
)

WORK, DEAD = "ns.sender", "ns.sender.dead"
JOB = {"schema": "mailpipe.outbound_email.v1", "job_id": "j-1", "mailbox": "s@contoso.com"}
PROPS = {"message_id": "m" * 32, "correlation_id": "j-1", "type": JOB["schema"]}
WHEN = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def _loop_copy(**extra: object) -> dict[str, object]:
    return {
        HEADER_ATTEMPT: 6,
        HEADER_REASON: "throttled",
        HEADER_ERROR: "graph said 429",
        HEADER_HINT: "gave up after 6 attempts",
        HEADER_TRACEBACK: "RetryableError <- x.py:1",
        HEADER_QUEUE: WORK,
        HEADER_ROUTING_KEY: "outbound.s@contoso.com",
        HEADER_DEAD_AT: WHEN.isoformat(),
        HEADER_DELIVERY_COUNT: 4,
        "x-death": [
            {"queue": f"{WORK}.retry.5s", "reason": "expired", "count": 1, "time": WHEN},
            {"queue": f"{WORK}.retry.1s", "reason": "expired", "count": 1, "time": WHEN},
        ],
        **extra,
    }


def test_a_loop_copy_says_what_why_when_and_how_many_times() -> None:
    letter = describe(DEAD, WORK, json.dumps(JOB).encode(), _loop_copy(), PROPS)
    assert letter.key == "m" * 32
    assert (letter.reason, letter.error, letter.hint) == (
        "throttled",
        "graph said 429",
        "gave up after 6 attempts",
    )
    assert letter.dead_at == WHEN and letter.attempts == 6 and letter.retries == 2
    assert letter.what == {"job_id": "j-1", "mailbox": "s@contoso.com"}
    assert letter.schema == JOB["schema"] and letter.replays == 0


def test_a_message_the_broker_parked_is_explained() -> None:
    headers = {
        "x-death": [
            {
                "queue": WORK,
                "reason": "delivery_limit",
                "count": 1,
                "time": WHEN.replace(tzinfo=None),
                "routing-keys": ["outbound.s@contoso.com"],
            }
        ],
        "x-first-death-reason": "delivery_limit",
    }
    letter = describe(DEAD, WORK, json.dumps(JOB).encode(), headers, PROPS)
    assert letter.reason == "delivery_limit" and WORK in letter.error and letter.hint
    assert letter.dead_at == WHEN and letter.attempts is None
    replay = replay_headers(letter)
    assert replay == {HEADER_ROUTING_KEY: "outbound.s@contoso.com", HEADER_REPLAYS: 1}


def test_a_body_that_is_no_json_and_has_no_id_still_has_a_stable_id() -> None:
    letter = describe(DEAD, WORK, b"\xff\xfe not json", {}, {})
    again = describe(DEAD, WORK, b"\xff\xfe not json", {"x": 1}, {})
    assert letter.key == again.key and letter.key.startswith("sha-")
    assert letter.what == {} and letter.reason == "unknown" and letter.dead_at is None
    assert details(letter)["body"] == b"\xff\xfe not json".decode("utf-8", "replace")


def test_replay_starts_a_fresh_budget_and_counts_replays() -> None:
    letter = describe(
        DEAD, WORK, b"{}", _loop_copy(**{HEADER_REPLAYS: 2, "x-custom": "kept"}), PROPS
    )
    replay = replay_headers(letter)
    assert replay == {
        HEADER_ROUTING_KEY: "outbound.s@contoso.com",
        HEADER_REPLAYS: 3,
        "x-custom": "kept",
    }
    assert dead.replay_properties(letter)["message_id"] == "m" * 32


def test_ids_match_in_full_or_by_a_long_enough_prefix() -> None:
    letter = describe(DEAD, WORK, b"{}", {}, PROPS)
    assert matches(letter, "m" * 32) and matches(letter, "mmmmmm")
    assert not matches(letter, "mmmmm") and not matches(letter, "mmmmmmx")


def test_details_hide_secrets_and_cut_long_values() -> None:
    body = {**JOB, "Password": "hunter2", "nested": {"api_key": "k"}, "blob": "A" * 10_000}
    headers = {HEADER_ERROR: "amqp://u:s3cret@h/ refused", "x-when": WHEN, "x-raw": b"bytes"}
    shown = details(describe(DEAD, WORK, json.dumps(body).encode(), headers, PROPS))
    text = json.dumps(shown)
    assert "hunter2" not in text and "s3cret" not in text and '"k"' not in text
    assert len(shown["body"]["blob"]) < 2100
    assert shown["headers"]["x-when"] == WHEN.isoformat()
    assert summary(describe(DEAD, WORK, b"{}", {}, PROPS))["id"] == "m" * 32


UNSAFE = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


@given(st.text(max_size=300), st.integers(min_value=2, max_value=200))
def test_one_line_never_lets_a_control_or_line_break_through(text: str, limit: int) -> None:
    shown = one_line(text, limit)
    assert len(shown) <= limit
    assert not any(unicodedata.category(c) in UNSAFE for c in shown)
    assert len(shown.splitlines()) <= 1


def test_one_line_shows_what_it_escaped() -> None:
    assert one_line("a\x1b[31mb\nc\u2028d\x0b", 100) == "a\\x1b[31mb\\x0ac\\u2028d\\x0b"
