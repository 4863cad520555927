"""Hostile or broken job publishes: each ends in exactly one result (or, with nothing to key it
by, one dead letter), says what to fix, and never stops the jobs behind it (the sender's
handler run as the consumer loop runs it, over the fakes of tests/unit/test_sender_handler.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.broker import Delivery, Names
from libs.common.broker.batch import single
from libs.common.broker.dead import describe
from libs.common.broker.dead_view import details
from libs.common.broker.policy import Action, Outcome
from libs.common.broker.work import Work
from libs.common.contracts import OutboundEmail
from libs.common.contracts.wire_json import MAX_DEPTH, json_problem, peek_object
from services.sender.domain.policy import SendRejected
from tests.unit.test_sender_handler import DELIVERY, Rig, job, rig


def _work(r: Rig) -> Work[OutboundEmail]:
    return Work(
        Names().sender, OutboundEmail, single(r.handler), r.handler.on_invalid, r.handler.on_dead
    )


def _run(r: Rig, body: bytes, delivery: Delivery = DELIVERY) -> Outcome:
    [outcome] = _work(r)([(body, delivery)])
    return outcome


def _body(**fields: Any) -> bytes:
    data = json.loads(job("unused").to_json()) | fields
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


UNUSABLE_JOB_IDS = {
    "missing": _body(job_id=None),
    "a number": _body(job_id=7),
    "empty": _body(job_id=""),
    "over-long": _body(job_id="j" * 1001),
    "a line break": _body(job_id="a\nb"),
    "not JSON": b"this is not JSON",
    "not an object": b'["job_id", "j1"]',
}


@pytest.mark.parametrize("body", UNUSABLE_JOB_IDS.values(), ids=UNUSABLE_JOB_IDS.keys())
def test_a_job_without_a_usable_job_id_is_answered_under_its_correlation_id(body: bytes) -> None:
    r = rig()
    outcome = _run(r, body, Delivery(message_id="amqp-1", correlation_id="crm-4711"))
    assert outcome.action is Action.DEAD  # parked, and the jobs behind it go on
    (result,) = r.published
    assert (result.job_id, result.status, result.error_code) == (
        "crm-4711",
        "rejected",
        "contract_violation",
    )
    assert "correlation_id" in (result.detail or "")
    assert result.error_message and "\n" not in result.error_message
    assert r.graph.sent == [] and r.joblog.jobs == {}


def test_without_a_correlation_id_the_message_id_keys_the_answer() -> None:
    r = rig()
    _run(r, _body(job_id=None), Delivery(message_id="amqp-1", correlation_id=""))
    (result,) = r.published
    assert result.job_id == "amqp-1" and "message_id" in (result.detail or "")


def test_an_unusable_correlation_id_gives_way_to_the_message_id() -> None:
    r = rig()
    _run(r, _body(job_id=7), Delivery(message_id="amqp-1", correlation_id="a\rb"))
    (result,) = r.published
    assert result.job_id == "amqp-1"


def test_with_nothing_to_key_an_answer_by_the_job_is_dead_lettered_and_logged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = rig()
    outcome = _run(r, _body(job_id=None), Delivery(message_id="", correlation_id=""))
    assert outcome.action is Action.DEAD and outcome.reason == "contract_violation"
    assert "job_id" in outcome.error
    assert r.published == []
    assert (
        "job without a job_id, correlation_id or message_id dead-lettered"
        in capsys.readouterr().out
    )


def test_a_usable_job_id_in_the_body_wins_over_the_correlation_id() -> None:
    r = rig()
    _run(r, _body(job_id="j-body", subject="a\x0bb"), Delivery("amqp-1", "crm-4711"))
    (result,) = r.published
    assert result.job_id == "j-body" and result.detail is None


def test_a_correlation_id_seen_before_keeps_its_first_answer() -> None:
    r = rig()
    r.handler(job("crm-4711"), DELIVERY)
    _run(r, _body(job_id=None), Delivery("amqp-2", "crm-4711"))
    assert [p.status for p in r.published] == ["sent", "sent"]
    assert r.published[1].internet_message_id == r.published[0].internet_message_id


def _with(raw_field: bytes, job_id: str = "j-hostile") -> bytes:
    """A valid job whose last field is ``raw_field``, bytes as they are."""
    return _body(job_id=job_id)[:-1] + b", " + raw_field + b"}"


CORRELATED = Delivery(message_id="amqp-1", correlation_id="crm-1")

#: Body → (the id its answer is keyed by, what its error_message must say).
HOSTILE_BODIES = {
    "100,000 brackets": (b"[" * 100_000, "crm-1", "nested more than"),
    "brackets in a field": (_with(b'"headers": ' + b"[" * 100_000), "crm-1", "nested more than"),
    "a 100,000-digit number": (_with(b'"record_id": ' + b"9" * 100_000), "j-hostile", "digits"),
    "NaN": (_with(b'"record_id": NaN'), "j-hostile", "NaN"),
    "Infinity": (_with(b'"record_id": -Infinity'), "j-hostile", "-Infinity"),
    "a repeated key": (_with(b'"job_id": "j-other"'), "crm-1", "'job_id' appears twice"),
    "invalid UTF-8": (
        _body(job_id="j-hostile").replace(b'"Hi"', b'"H\xffi"'),
        "crm-1",
        "not UTF-8 (byte 0xff",
    ),
    "a byte-order mark": (
        b"\xef\xbb\xbf" + _body(job_id="j-hostile"),
        "j-hostile",
        "byte-order mark",
    ),
}


@pytest.mark.parametrize(
    ("body", "key", "says"), HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys()
)
def test_a_hostile_body_is_answered_with_what_to_fix(body: bytes, key: str, says: str) -> None:
    r = rig()
    outcome = _run(r, body, CORRELATED)
    assert outcome.action is Action.DEAD and outcome.reason == "contract_violation"
    (result,) = r.published
    assert (result.job_id, result.status, result.error_code) == (
        key,
        "rejected",
        "contract_violation",
    )
    assert says in (result.error_message or "")
    assert r.graph.sent == []


WIRE_PROPERTIES = {
    "gzip": ("application/json", "gzip", "content_encoding 'gzip'"),
    "xml": ("application/xml", "utf-8", "content_type 'application/xml'"),
    "pickle": ("application/x-python-serialize", "binary", "content_type"),
    "latin-1": ("application/json; charset=latin-1", "", "charset"),
}


@pytest.mark.parametrize(
    ("content_type", "encoding", "says"), WIRE_PROPERTIES.values(), ids=WIRE_PROPERTIES.keys()
)
def test_a_body_declared_as_something_else_than_json_is_refused(
    content_type: str, encoding: str, says: str
) -> None:
    r = rig()
    declared = replace(CORRELATED, content_type=content_type, content_encoding=encoding)
    outcome = _run(r, job("j-wire").to_json(), declared)
    assert outcome.action is Action.DEAD
    (result,) = r.published
    assert (result.job_id, result.status) == ("j-wire", "rejected")
    assert says in (result.error_message or "") and r.graph.sent == []


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("", ""),
        ("application/json", "utf-8"),
        ("Application/JSON; charset=UTF-8", "UTF8"),
        ("application/data", "binary"),  # kombu's for a body given as bytes
        ("application/octet-stream", ""),
        ("text/plain; charset=utf-8", ""),
        ("application/vnd.mailpipe+json", "identity"),
        ("application/json; charset=us-ascii", "us-ascii"),
    ],
)
def test_json_as_documented_is_read(content_type: str, encoding: str) -> None:
    r = rig()
    declared = replace(CORRELATED, content_type=content_type, content_encoding=encoding)
    assert _run(r, job("j-ok").to_json(), declared) == Outcome(Action.ACK)
    assert [p.status for p in r.published] == ["sent"]


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}"])
def test_a_dead_letter_of_a_deeply_nested_body_can_be_listed_and_shown(body: bytes) -> None:
    letter = describe("q.dead", "q", body, {}, {"message_id": "m1"})
    assert letter.what == {}
    assert details(letter)["body"].startswith("{" if body.startswith(b"{") else "[")


@pytest.mark.parametrize(
    ("body", "kind"), [(b"null", "null"), (b"[]", "list"), (b'"j1"', "string"), (b"7", "number")]
)
def test_a_body_that_is_no_object_is_named_for_what_it_is(body: bytes, kind: str) -> None:
    r = rig()
    _run(r, body, CORRELATED)
    (result,) = r.published
    assert f"the body is a JSON {kind}: publish the job as one JSON object" in (
        result.error_message or ""
    )


INJECTIONS = {
    "headers differing in case": (
        {"headers": {"X-Crm-Case": "1", "x-crm-case": "2"}},
        "'x-crm-case' and 'X-Crm-Case' differ only in case",
    ),
    "a header the sender sets itself": (
        {"auto_submitted": "auto-replied", "headers": {"x-auto-response-suppress": "None"}},
        "mailpipe sets X-Auto-Response-Suppress itself",
    ),
    "a line break in an address": ({"to": [{"address": "a\u2028b@example.org"}]}, "U+2028"),
    "NEL in a domain": ({"cc": [{"address": "a@exa\u0085mple.org"}]}, "U+0085"),
    "a control character in from_address": ({"from_address": "a\u009bb@contoso.com"}, "U+009B"),
    "CR LF in in_reply_to": ({"in_reply_to": "<a@b>\r\nBcc: x@evil.example"}, "U+000D"),
    "LF in references": ({"references": ["<a@b>", "<c@d>\nBcc: x@evil.example"]}, "U+000A"),
    "NUL in references": ({"references": ["<a@b>\x00<c@d>"]}, "U+0000"),
}


@pytest.mark.parametrize(("fields", "says"), INJECTIONS.values(), ids=INJECTIONS.keys())
def test_header_injection_and_ambiguity_are_refused(fields: dict[str, Any], says: str) -> None:
    r = rig()
    outcome = _run(r, _body(job_id="j-inject", **fields), CORRELATED)
    assert outcome.action is Action.DEAD
    (result,) = r.published
    assert (result.job_id, result.status, result.error_code) == (
        "j-inject",
        "rejected",
        "contract_violation",
    )
    assert says in (result.error_message or "") and r.graph.sent == []


def test_a_header_mailpipe_sets_only_sometimes_is_the_jobs_when_mailpipe_does_not() -> None:
    r = rig()
    r.handler(job("j1", headers={"X-Auto-Response-Suppress": "OOF"}), DELIVERY)
    assert [p.status for p in r.published] == ["sent"]
    assert b"X-Auto-Response-Suppress: OOF" in r.graph.sent[0]


def _inline(content_id: str, name: str = "logo.png") -> dict[str, Any]:
    return {"name": name, "content_base64": "", "is_inline": True, "content_id": content_id}


@pytest.mark.parametrize(
    "content_id", ["two words", "<a<b>", "<unclosed", "closed>", "<>", "caf\u00e9@desk", "a;b"]
)
def test_a_content_id_must_be_one_id(content_id: str) -> None:
    r = rig()
    html = '<img src="cid:x">'
    with pytest.raises(SendRejected):
        r.handler(job("j1", html=html, attachments=[_inline(content_id)]), DELIVERY)
    (result,) = r.published
    assert result.error_code == "content_id_not_allowed" and r.graph.sent == []
    assert repr(content_id) in (result.error_message or "")


@pytest.mark.parametrize("content_id", ["logo", "<logo@desk>", "image001.png@01D9E8A1.4F5B6C70"])
def test_a_content_id_in_the_usual_forms_is_sent(content_id: str) -> None:
    r = rig()
    html = f'<img src="cid:{content_id.strip("<>")}">'
    r.handler(job("j1", html=html, attachments=[_inline(content_id)]), DELIVERY)
    assert [p.status for p in r.published] == ["sent"]
    assert f"Content-ID: <{content_id.strip('<>')}>".encode() in r.graph.sent[0]


def test_two_attachments_with_one_content_id_in_any_case_are_refused() -> None:
    r = rig()
    atts = [_inline("<Logo@desk>"), _inline("logo@DESK", name="b.png")]
    with pytest.raises(SendRejected):
        r.handler(job("j1", html="<p>x</p>", attachments=atts), DELIVERY)
    assert r.published[0].error_code == "duplicate_content_id"


_JSONISH = st.lists(
    st.sampled_from(
        [b"[", b"]", b"{", b"}", b'"a":', b",", b"1", b"NaN", b"\xef\xbb\xbf", b"\xff"]
    ),
    max_size=200,
).map(b"".join)


@given(st.one_of(st.binary(max_size=500), _JSONISH))
def test_reading_any_body_never_raises(body: bytes) -> None:
    peeked, problem = peek_object(body), json_problem(body)
    assert peeked is None or isinstance(peeked, dict)
    # A body with one reading is a JSON object the lenient look reads alike.
    assert problem is not None or peeked == json.loads(body)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_json_with_one_reading_is_accepted(value: object) -> None:
    body = json.dumps({"job": value}).encode()
    if _nesting(value) < MAX_DEPTH:
        assert json_problem(body) is None and peek_object(body) == {"job": value}
    else:
        assert "nested more than" in (json_problem(body) or "") and peek_object(body) is None


def _nesting(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_nesting(v) for v in value), default=0)
    return 0
