"""One raw mail read the way each provider's adapter reads it: the Gmail adapter from Gmail's
raw MIME, the Graph adapter from the message Exchange (the simulator) makes of the bytes."""

from __future__ import annotations

import datetime as dt

from libs.common.gmail._convert import b64url_encode
from libs.common.gmail._convert import to_message as from_gmail
from libs.common.graph._message import to_message as from_graph
from libs.common.mail.models import MailMessage
from libs.graphsim.mime import parse

_RECEIVED = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def gmail(raw: bytes) -> MailMessage:
    return from_gmail({"id": "m", "threadId": "t", "internalDate": "0", "raw": b64url_encode(raw)})


def graph(raw: bytes) -> MailMessage:
    fields, _ = parse(raw, _RECEIVED, "help@example.com")
    return from_graph({**fields, "id": "m"})


def nested(depth: int, inner: bytes) -> bytes:
    """A multipart/mixed whose first part is text, then ``depth`` levels of nesting."""
    head = (
        b"From: ann@x.test\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=t\r\n\r\n"
        b"--t\r\nContent-Type: text/plain\r\n\r\nthe text before the nesting\r\n--t\r\n"
        b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    )
    opening = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(depth)
    )
    leaf = b"--b%d\r\nContent-Type: text/plain\r\n\r\n%s\r\n--b%d--\r\n" % (depth, inner, depth)
    closing = b"".join(b"--b%d--\r\n" % i for i in range(depth - 1, -1, -1))
    return head + opening + leaf + closing + b"--t--\r\n"
