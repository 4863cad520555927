"""Attachments of many messages by $batch against the simulator: 20 messages per request,
one typed error per failed message, throttled items retried, bytes as seeded."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from libs.common.graph import Attachment, GraphAuthError, GraphError, GraphNotFound
from libs.common.mail import MailError
from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph

from .graph_client_helpers import BOX, faults, mail_for, rfc822, seed, stats

LIST_ROUTE = "GET users/{u}/messages/{m}/attachments"


def _files(n: int) -> list[tuple[str, str, bytes]]:
    """Every third message has two attachments whose bytes name the message; others none."""
    if n % 3:
        return []
    return [
        (f"report-{n}.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * (n + 1)),
        (f"note-{n}.txt", "text/plain", f"message {n}: Grüße\n".encode()),
    ]


def _seed_messages(sim: SimHandle, count: int) -> dict[str, list[tuple[str, str, bytes]]]:
    """Graph id -> the attachments seeded into that message, in seeding order."""
    seeded = {}
    for n in range(count):
        raw, _ = rfc822(f"Ticket {n}", attachments=_files(n))
        seeded[seed(sim, raw)] = _files(n)
    return seeded


def _plain(got: list[Attachment] | MailError) -> list[tuple[str, str, bytes]]:
    assert isinstance(got, list), got
    return [(a.name, a.content_type, a.content) for a in got]


def test_45_messages_take_three_batches_and_bytes_match_what_was_seeded(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 45)
    ids = list(seeded)
    with mail_for(sim) as mail:
        got = mail.get_attachments_many(ids)
        assert mail.requests_sent == 3
    assert list(got) == ids
    assert {mid: _plain(atts) for mid, atts in got.items()} == seeded
    assert sum(1 for atts in got.values() if atts == []) == 30
    seen = stats(sim)
    assert seen["http_requests"] == 3
    assert seen["requests"] == {"POST $batch": {"200": 3}}
    assert seen["batch_items"] == {LIST_ROUTE: {"200": 45}}


def test_the_same_attachments_as_one_by_one(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 4)
    with mail_for(sim) as mail:
        many = mail.get_attachments_many([*seeded, *seeded])  # duplicates are asked once
        single = {mid: mail.get_attachments(mid) for mid in seeded}
    assert many == single
    assert stats(sim)["batch_items"] == {LIST_ROUTE: {"200": 4}}


def test_the_simulator_answers_the_batch_item_like_the_plain_route(sim: SimHandle) -> None:
    (mid,) = _seed_messages(sim, 1)
    url = f"users/{BOX}/messages/{quote(mid, safe='')}/attachments"
    item = {
        "id": "1",
        "method": "GET",
        "url": f"/{url}",
        "headers": {"Prefer": 'IdType="ImmutableId"'},
    }
    with graph(sim) as g:
        plain = g.get(url)
        batched = g.post("$batch", json={"requests": [item]})
    (answer,) = batched.json()["responses"]
    assert plain.status_code == answer["status"] == 200
    assert answer["body"] == plain.json() and len(plain.json()["value"]) == 2
    assert answer["headers"]["Content-Type"].startswith("application/json")


def test_a_missing_message_is_graph_not_found_and_the_others_are_fine(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 6)
    ids = list(seeded)
    with mail_for(sim) as mail:
        assert mail.delete(ids[3]) is True
        got = mail.get_attachments_many([*ids, "never-existed"])
    for gone in (ids[3], "never-existed"):
        err = got[gone]
        assert isinstance(err, GraphNotFound)
        assert err.status == 404 and err.code == "ErrorItemNotFound" and err.request_id
    assert {mid: _plain(got[mid]) for mid in ids if mid != ids[3]} == {
        mid: files for mid, files in seeded.items() if mid != ids[3]
    }
    assert stats(sim)["batch_items"][LIST_ROUTE] == {"200": 5, "404": 2}


def test_throttled_items_are_sent_again_until_they_succeed(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 25)
    faults(sim, throttle_ratio=0.5, retry_after_s=0, seed=1)
    with mail_for(sim) as mail:
        got = mail.get_attachments_many(list(seeded))
        sent = mail.requests_sent
    faults(sim, throttle_ratio=0.0)
    assert {mid: _plain(atts) for mid, atts in got.items()} == seeded
    seen = stats(sim)
    items = seen["batch_items"][LIST_ROUTE]
    assert items["200"] == 25 and items["429"] > 0
    # Only batches were sent: the first two, then one more per round of throttled items.
    assert seen["requests"] == {"POST $batch": {"200": sent}}
    assert seen["http_requests"] == sent and sent > 2
    assert sent <= 2 + items["429"]


def test_a_mailbox_the_app_may_not_read_is_an_error_per_message(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 3)
    with sim.control() as c:
        c.put(
            f"/_sim/apps/{sim.tenant_id}/{sim.client_id}/access-policy",
            json={"access_right": "DenyAccess", "mailboxes": [BOX]},
        ).raise_for_status()
    with mail_for(sim) as mail:
        got = mail.get_attachments_many(list(seeded))
    assert all(
        isinstance(err, GraphError) and err.status == 403 and err.code == "ErrorAccessDenied"
        for err in got.values()
    )


def test_a_failed_sign_in_raises(sim: SimHandle) -> None:
    seeded = _seed_messages(sim, 2)
    with mail_for(sim, client_secret="wrong-secret~abc") as mail, pytest.raises(GraphAuthError):
        mail.get_attachments_many(list(seeded))
    assert stats(sim)["http_requests"] == 0
