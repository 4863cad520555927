"""Property: any bytes posted as a message are stored and served on every route the fetcher
reads, with no 5xx, strict JSON and ``$value`` equal to what was posted.

The inputs are arbitrary bytes and realistic mail (``tests/data/graphsim``: many charsets,
multipart/alternative with attachments, a delivery report, an inline image, odd transfer
encodings) mutated the way mail gets damaged: flipped, inserted and deleted bytes, cuts,
header lines swapped, duplicated or taken from another message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libs.graphsim.testing import SimHandle
from tests.graphsim_helpers import graph, seed
from tests.integration.graphsim_reads import USER, read_like_the_fetcher, strict_json

SAMPLES = [
    p.read_bytes() for p in sorted((Path(__file__).parents[1] / "data/graphsim").glob("*.eml"))
]
#: Bytes that matter to a MIME parser, inserted at random places.
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"\r\n\r\n",
    b"\r\n ",
    b"--",
    b"=?",
    b"?=",
    b"=?utf-8?B?",
    b"=?x-unknown?Q?=FC",
    b"\xff",
    b"\x00",
    b"\xc3",
    b"\x80",
    b"\x1b$B",
    b"<",
    b'"',
    b"(",
    b";",
    b"*=",
    b"boundary=",
    b"charset=",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n",
    b"--==multi==\r\n",
    b"--outer\r\n",
    b"From: ",
    b"Subject: \xe4\r\n",
]


def _head_and_body(raw: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), sep + body


def _header_op(raw: bytes, draw: st.DrawFn) -> bytes:
    lines, rest = _head_and_body(raw)
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["swap", "duplicate", "foreign"]))
    if kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "duplicate":
        lines.insert(j, lines[i])
    else:
        foreign, _ = _head_and_body(draw(st.sampled_from(SAMPLES)))
        lines[i] = foreign[min(j, len(foreign) - 1)]
    return b"\r\n".join(lines) + rest


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "header"]))
        pos = draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] ^= draw(st.integers(1, 255))
        elif op == "insert":
            raw[pos:pos] = draw(
                st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=24))
            )
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del raw[max(pos, 1) :]
        elif raw:
            raw = bytearray(_header_op(bytes(raw), draw))
    return bytes(raw) or b"\x00"


MAIL = st.one_of(st.binary(min_size=1, max_size=3000), mutated_mail())


@pytest.fixture
def reader(sim: SimHandle) -> Iterator[httpx.Client]:
    with graph(sim) as g:
        yield g


def _move_copy_delete(g: httpx.Client, mid: str) -> None:
    """Move, copy and delete the message: the inbox is empty again for the next example."""
    msg = f"{USER}/messages/{quote(mid, safe='')}"
    moved = strict_json(g.post(f"{msg}/move", json={"destinationId": "archive"}))
    assert moved["id"] == mid
    copy = strict_json(g.post(f"{msg}/copy", json={"destinationId": "junkemail"}))
    for item in (mid, copy["id"]):
        assert g.delete(f"{USER}/messages/{quote(item, safe='')}").status_code == 204


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=MAIL)
def test_any_posted_bytes_are_served_on_every_read_route(
    sim: SimHandle, reader: httpx.Client, raw: bytes
) -> None:
    mid = seed(sim, raw)
    served = read_like_the_fetcher(reader, mid)
    assert served.mime == raw
    assert served.message["id"] == served.delta["id"] == mid
    _move_copy_delete(reader, mid)
