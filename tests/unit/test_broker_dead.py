"""Reading dead letters into plain data (libs/common/broker/dead.py, dead_view.py): what, why,
when, how many times; replay headers; one-line safety; no secret shown."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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


SECRET_NAMES = ["Authorization", "X-Api-Key", "api_key", "apiKey", "client_secret", "token"]
SECRET_NAMES += ["access-token", "PASSWORD", "passwd", "Cookie", "signature", "sig", "code"]
SECRET_NAMES += ["x-ms-Signature", "refresh_token", "Proxy-Authorization", "secret"]


def _shown(body: object, headers: Mapping[str, object]) -> tuple[dict[str, Any], str]:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    shown = details(describe(DEAD, WORK, raw, headers, PROPS))
    return shown, json.dumps(shown, ensure_ascii=False)


def test_show_hides_secret_headers_keys_and_url_query_values() -> None:
    body = {
        **JOB,
        "X-Api-Key": "key-hunter2pw",
        "nested": [{"Client-Secret": "cs-hunter2pw"}],
        "links": "https://h/a?sv=1&sig=sig-hunter2pw&x=1 https://h/cb?code=code-hunter2pw",
        "more": "https://h/t?token=tok-hunter2pw&access_token=at-hunter2pw",
        "note": "sent with Authorization: Bearer bearer-hunter2pw",
    }
    headers = {"Authorization": "Bearer hdr-hunter2pw", "x-api-key": "xk-hunter2pw"}
    shown, text = _shown(body, headers)
    assert "hunter2pw" not in text
    assert shown["headers"]["Authorization"] == "***"
    assert shown["body"]["X-Api-Key"] == "***"
    assert "sv=1" in shown["body"]["links"] and "&x=1" in shown["body"]["links"]
    assert shown["body"]["job_id"] == "j-1"


def test_show_escapes_bidi_and_format_characters_like_list() -> None:
    body = {**JOB, "subject": "invoice\u202egpj.exe", "x\u2066key": "a\u200fb\u061cc\x85d"}
    shown, text = _shown(body, {"x-\u202eh": "v\u2028w"})
    assert shown["body"]["subject"] == "invoice\\u202egpj.exe"
    assert "x\\u2066key" in shown["body"]
    assert shown["headers"]["x-\\u202eh"] == "v\\u2028w"
    assert not any(unicodedata.category(c) in UNSAFE for c in text)
    raw_text, _ = _shown("not json \x1b[2J\u202e".encode(), {})
    assert raw_text["body"] == "not json \\x1b[2J\\u202e"


_SECRET_VALUE = st.text(st.characters(categories=("L", "N")), min_size=4, max_size=12).map(
    lambda s: f"zq{s}Q9"
)
_NAME = st.sampled_from(SECRET_NAMES).flatmap(
    lambda n: st.sampled_from([n, n.lower(), n.upper(), n.replace("-", "_"), n.replace("_", "-")])
)


@given(
    st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=5),
    st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=5),
    _NAME,
    _NAME,
    _SECRET_VALUE,
)
def test_nothing_show_prints_is_a_control_or_a_secret(
    body: dict[str, str], headers: dict[str, str], body_key: str, header: str, secret: str
) -> None:
    body = {**body, body_key: secret}
    headers = {**headers, header: f"Bearer {secret}"}
    _, text = _shown(body, headers)
    assert not any(unicodedata.category(c) in UNSAFE for c in text)
    assert secret not in text
    listed = json.dumps(summary(describe(DEAD, WORK, json.dumps(body).encode(), headers, PROPS)))
    assert secret not in listed
