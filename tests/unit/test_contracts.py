"""Contracts: field limits, and every contract round-trips through JSON unchanged."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from libs.common.contracts import (
    CONTRACTS,
    MAX_ATTACHMENT_BYTES,
    Address,
    InboundEmail,
    OutboundEmail,
    OutboundResult,
    ProcessedEmail,
    RecordEvent,
    contract_for,
)
from libs.common.contracts._base import clean_header_value
from libs.common.errors import ContractError

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def job(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job_id": "job-1",
        "mailbox": "support@contoso.com",
        "to": [{"address": "customer@example.com", "name": "Ann Customer"}],
        "subject": "Re: printer",
        "text": "Hello",
    }
    data.update(overrides)
    return data


def rejected(data: dict[str, Any]) -> str:
    import json

    with pytest.raises(ContractError) as info:
        OutboundEmail.from_json(json.dumps(data))
    return str(info.value)


def test_schema_names_and_registry() -> None:
    assert set(CONTRACTS) == {
        "mailpipe.inbound_email.v1",
        "mailpipe.inbound_email.v2",
        "mailpipe.processed_email.v1",
        "mailpipe.processed_email.v2",
        "mailpipe.outbound_email.v1",
        "mailpipe.outbound_result.v1",
        "mailpipe.quarantined_email.v1",
        "mailpipe.quarantined_email.v2",
        "mailpipe.record_event.v1",
        "mailpipe.record_event.v2",
        "mailpipe.mailbox_changed.v1",
    }
    assert contract_for("mailpipe.outbound_email.v1") is OutboundEmail
    with pytest.raises(ContractError):
        contract_for("mailpipe.nope.v1")
    body = OutboundEmail.model_validate(job()).to_json()
    assert b'"schema":"mailpipe.outbound_email.v1"' in body


def test_contracts_are_frozen() -> None:
    msg = OutboundEmail.model_validate(job())
    with pytest.raises(ValidationError):
        msg.subject = "changed"  # type: ignore[misc]  # the assignment the test expects to fail


def test_outbound_limits() -> None:
    assert "CR, LF" in rejected(job(subject="hi\r\nBcc: victim@example.com"))
    assert "only X- headers" in rejected(job(headers={"To": "x@example.com"}))
    assert "reserved" in rejected(job(headers={"X-Mailpipe-Job-Id": "forged"}))
    assert "CR, LF" in rejected(job(headers={"X-Ticket": "a\nb"}))
    assert "not an email address" in rejected(job(to=[{"address": "not-an-address"}]))
    assert "not an email address" in rejected(job(to=[{"address": "a@b@c.com"}]))
    assert "at least one recipient" in rejected(job(to=[]))
    assert "text or an html body" in rejected(job(text=None))
    assert "job_id" in rejected(job(job_id=""))
    assert "extra" in rejected(job(surprise=1)).lower()
    huge = {"name": "big.iso", "blob": {"sha256": "a" * 64, "size": 200 * 1024 * 1024}}
    assert str(MAX_ATTACHMENT_BYTES) in rejected(job(attachments=[huge]))
    inline = base64.b64encode(b"x" * (17 * 1024 * 1024)).decode()
    assert "blob references" in rejected(job(attachments=[{"name": "a", "content_base64": inline}]))
    assert "base64" in rejected(job(attachments=[{"name": "a", "content_base64": "@@@"}]))


def test_outbound_accepts_good_jobs() -> None:
    msg = OutboundEmail.model_validate(
        job(
            from_address="agent@contoso.com",
            cc=[{"address": "boss@example.com"}],
            html="<p>Hi</p>",
            headers={"X-Ticket-Priority": "high"},
            attachments=[{"name": "a.txt", "content_base64": base64.b64encode(b"abc").decode()}],
            record_id=42,
        )
    )
    assert msg.attachments[0].size == 3
    assert Address(address="jörg@exämple.de").address == "jörg@exämple.de"


def test_processed_and_result_invariants() -> None:
    base: dict[str, Any] = {
        "mailbox": "s@contoso.com",
        "provider": "microsoft",
        "message_id": "AAMk=",
        "processed_at": NOW,
    }
    with pytest.raises(ContractError):
        ProcessedEmail.from_json(ProcessedEmail.model_construct(**base).model_dump_json())
    ProcessedEmail.model_validate({**base, "outcome": "created", "record_id": 1})
    with pytest.raises(ValueError, match="needs a record_id"):
        ProcessedEmail.model_validate({**base, "outcome": "created"})
    with pytest.raises(ValueError, match="needs a reason"):
        ProcessedEmail.model_validate({**base, "outcome": "quarantined"})
    with pytest.raises(ValueError, match="needs an error_code"):
        OutboundResult.model_validate({"job_id": "j", "status": "failed", "finished_at": NOW})


def test_inbound_times_are_utc() -> None:
    from datetime import timedelta, timezone

    local = datetime(2026, 11, 26, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    msg = InboundEmail.model_validate(
        {
            "mailbox": "s@contoso.com",
            "provider": "microsoft",
            "message_id": "id",
            "received_at": local,
            "fetched_at": local,
        }
    )
    assert msg.received_at.utcoffset() == timedelta(0)
    assert msg.received_at == local
    with pytest.raises(ValueError):
        InboundEmail.model_validate(
            {
                "mailbox": "s@contoso.com",
                "message_id": "id",
                "provider": "microsoft",
                "received_at": "2026-01-01T00:00:00",
                "fetched_at": NOW,
            }
        )


# --- property tests: every contract survives JSON unchanged ---------------------------------

# What the header rule lets through (tests/unit/test_header_rule.py).
_header_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40).map(
    clean_header_value
)
_local = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True).filter(
    lambda s: ".." not in s
)
_domain = st.from_regex(r"[a-z0-9]{1,10}\.(com|org|de|example)", fullmatch=True)
_address = st.builds(lambda lp, d: f"{lp}@{d}", _local, _domain)
_message_id = st.builds(lambda lp, d: f"<{lp}@{d}>", _local, _domain)
_addresses = st.lists(st.builds(Address, address=_address, name=_header_text), max_size=3)
_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_sha = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
_blob = st.fixed_dictionaries({"sha256": _sha, "size": st.integers(0, 10**9)})

_inbound = st.fixed_dictionaries(
    {
        "mailbox": _address,
        "message_id": _header_text.filter(bool),
        "provider": st.sampled_from(["microsoft", "google"]),
        "received_at": _times,
        "fetched_at": _times,
        "from": st.none() | st.builds(Address, address=_address),
        "to": _addresses,
        "subject": _header_text,
        "body": st.fixed_dictionaries(
            {"text": st.none() | st.text(max_size=200), "html": st.none() | st.text(max_size=200)}
        ),
        "headers": st.fixed_dictionaries(
            {
                "references": st.lists(_message_id, max_size=3),
                "in_reply_to": st.none() | _header_text,
            }
        ),
        "attachments": st.lists(
            st.fixed_dictionaries(
                {"name": _header_text, "blob": _blob, "is_inline": st.booleans()}
            ),
            max_size=2,
        ),
    }
).map(InboundEmail.model_validate)

_outbound = st.fixed_dictionaries(
    {
        "job_id": _header_text.filter(bool),
        "mailbox": _address,
        "from_address": st.none() | _address,
        "to": _addresses.filter(bool),
        "bcc": _addresses,
        "subject": _header_text,
        "text": st.text(max_size=300),
        "headers": st.dictionaries(
            st.from_regex(r"X-[A-Za-z0-9]{1,10}", fullmatch=True).filter(
                lambda n: not n.lower().startswith("x-mailpipe")
            ),
            _header_text,
            max_size=3,
        ),
        "record_id": st.none() | st.integers(1, 10**9),
        "auto_submitted": st.sampled_from(["no", "auto-replied", "auto-generated"]),
    }
).map(OutboundEmail.model_validate)

_processed = st.fixed_dictionaries(
    {
        "mailbox": _address,
        "message_id": _header_text.filter(bool),
        "provider": st.just("microsoft"),
        "outcome": st.just("created"),
        "record_id": st.integers(1, 10**6),
        "processed_at": _times,
    }
).map(ProcessedEmail.model_validate)

_result = st.fixed_dictionaries(
    {
        "job_id": _header_text.filter(bool),
        "status": st.sampled_from(["sent", "failed", "rejected"]),
        "attempts": st.integers(0, 20),
        "error_code": st.just("x"),
        "finished_at": _times,
    }
).map(OutboundResult.model_validate)

_event = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["created", "updated"]),
        "record_id": st.integers(1, 10**6),
        "mailbox": _address,
        "subject": _header_text,
        "requester": st.none() | st.builds(Address, address=_address, name=_header_text),
        "message_count": st.integers(0, 1000),
        "change": st.sampled_from(["new_request", "reply", "auto_reply", "delivery_failure"]),
        "occurred_at": _times,
    }
).map(RecordEvent.model_validate)


@settings(max_examples=60, deadline=None)
@given(msg=st.one_of(_inbound, _outbound, _processed, _result, _event))
def test_every_contract_round_trips_through_json(msg: Any) -> None:
    again = type(msg).from_json(msg.to_json())
    assert again == msg
    assert again.to_json() == msg.to_json()


def test_the_wire_json_is_made_once_and_never_leaks_into_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A producer checks its message serialises, then publishes it: one dump for both. The
    remembered JSON is no field: equal messages stay equal, copies start without it."""
    msg = ProcessedEmail.model_validate(
        {
            "mailbox": "s@contoso.com",
            "provider": "microsoft",
            "message_id": "AAMk=",
            "processed_at": NOW,
            "outcome": "created",
            "record_id": 1,
        }
    )
    dumps: list[str] = []
    real = ProcessedEmail.model_dump_json

    def counted(self: ProcessedEmail, **kwargs: Any) -> str:
        dumps.append(self.message_id)
        return real(self, **kwargs)

    monkeypatch.setattr(ProcessedEmail, "model_dump_json", counted)
    first = msg.to_json()
    assert msg.to_json() is first
    assert dumps == ["AAMk="]
    fresh = ProcessedEmail.from_json(first)
    assert fresh == msg and hash(fresh) == hash(msg)
    assert "_wire_json" not in msg.model_dump() and "_wire_json" not in repr(msg)
    changed = msg.model_copy(update={"record_id": 2})
    assert b'"record_id":2' in changed.to_json()
    assert dumps == ["AAMk=", "AAMk="]
