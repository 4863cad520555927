"""Gmail's batch endpoint (``POST /batch/gmail/v1``): up to 50 calls in one multipart/mixed
request (Google takes 100 but discourages more than 50), and no more quota units than one
second allows, answered part by part in order.
Each part is throttled on its own: throttled parts are sent again, the rest kept."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from libs.common.gmail._errors import error_from_response
from libs.common.gmail._http import GmailHttp
from libs.common.gmail._quota import cost
from libs.common.mail.errors import MailError
from libs.common.mail.retry import parse_retry_after

MAX_CALLS = 50


@dataclass(frozen=True)
class Call:
    method: str
    #: Under the API root, e.g. ``/gmail/v1/users/me/messages/ID?format=raw``.
    path: str
    what: str
    body: Any = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    error: MailError | None = None


def _encode(calls: Sequence[Call]) -> tuple[bytes, str]:
    boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for n, call in enumerate(calls):
        body = b"" if call.body is None else json.dumps(call.body).encode()
        head = f"{call.method} {call.path} HTTP/1.1\r\n"
        if call.body is not None:
            head += "Content-Type: application/json\r\n"
        part = (
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <item-{n}>\r\n\r\n"
            f"{head}\r\n"
        ).encode()
        chunks.append(part + body + b"\r\n")
    return b"".join(
        chunks
    ) + f"--{boundary}--\r\n".encode(), f"multipart/mixed; boundary={boundary}"


def _header(lines: list[str], name: str) -> str | None:
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


@dataclass(frozen=True)
class _Part:
    status: int
    body: bytes
    retry_after: str | None


def _decode(content: bytes, content_type: str, count: int) -> list[_Part]:
    """The answer's parts in the calls' order: by ``Content-ID: <response-item-N>`` (Google
    may answer in another order), else in the order given."""
    boundary = content_type.partition("boundary=")[2].strip('"; ')
    by_id: dict[int, _Part] = {}
    in_order: list[_Part] = []
    for chunk in content.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        outer, _, http = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        head, _, body = http.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        part = _Part(int(lines[0].split()[1]), body.rstrip(b"\r\n"), _header(lines, "retry-after"))
        cid = _header(outer.decode("latin-1").split("\r\n"), "content-id") or ""
        number = cid.strip("<>").rpartition("item-")[2]
        if number.isdigit() and int(number) < count:
            by_id[int(number)] = part
        in_order.append(part)
    if len(by_id) == count:
        return [by_id[n] for n in range(count)]
    return in_order


def run_batch(
    http: GmailHttp, calls: Sequence[Call], sleep: Callable[[float], None] = time.sleep
) -> list[Answer]:
    """Every call's answer, in input order; throttled or failing-retryable parts retried
    within the retry budget, then given as their error."""
    answers: dict[int, Answer] = {}
    pending = list(range(len(calls)))
    started, attempt = time.monotonic(), 0
    while pending:
        attempt += 1
        retry: list[int] = []
        wait = 0.0
        for chunk in _chunks(pending, calls, http.units_per_s):
            for n, answer in zip(chunk, _round(http, [calls[n] for n in chunk]), strict=True):
                answers[n] = answer
                if answer.error is not None and answer.error.retryable:
                    retry.append(n)
                    wait = max(wait, http.policy.delay(attempt, answer.error.retry_after_s))
        if not retry or time.monotonic() - started + wait > http.policy.budget_s:
            break
        sleep(wait)
        pending = retry
    return [answers[n] for n in range(len(calls))]


def _chunks(pending: list[int], calls: Sequence[Call], units_per_s: int) -> list[list[int]]:
    """At most 50 calls per batch, and no more units than the user's second allows (Google
    meters each part: a batch dearer than the quota would be throttled part by part)."""
    chunks: list[list[int]] = [[]]
    spent = 0
    for n in pending:
        units = cost(calls[n].what)
        if chunks[-1] and (len(chunks[-1]) >= MAX_CALLS or spent + units > units_per_s):
            chunks.append([])
            spent = 0
        chunks[-1].append(n)
        spent += units
    return [c for c in chunks if c]


def _round(http: GmailHttp, calls: Sequence[Call]) -> list[Answer]:
    body, content_type = _encode(calls)
    response = http.request(
        "POST",
        "/batch/gmail/v1",
        what="batch",
        units=sum(cost(c.what) for c in calls),
        content=body,
        headers={"Content-Type": content_type},
    )
    parts = _decode(response.content, response.headers.get("content-type", ""), len(calls))
    answers = []
    for call, part in zip(calls, parts, strict=True):
        if part.status < 400:
            answers.append(
                Answer(part.status, json.loads(part.body) if part.body.strip() else None)
            )
            continue
        err = error_from_response(
            part.status,
            part.body,
            what=call.what,
            user=http.user,
            retry_after_s=parse_retry_after(part.retry_after),
        )
        answers.append(Answer(part.status, None, err))
    return answers
