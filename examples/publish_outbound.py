#!/usr/bin/env python3
"""Publish one outbound email job to mailpipe and wait for its result, with plain pika.

This is what any system does to send mail through mailpipe (see docs/publishing-jobs.md):
no mailpipe import, only the AMQP contract. It declares nothing mailpipe owns; to read its
result it binds a temporary, exclusive queue of its own to ``<namespace>.events``.

    python examples/publish_outbound.py --amqp-url amqp://guest:guest@127.0.0.1:5672/%2F \\
        --namespace mailpipe --mailbox support@contoso.com --to customer@example.org \\
        --subject "Your request" --text "We are on it."

Prints the result as JSON; exits 0 when the mail was sent, 1 when it failed or was rejected,
2 when no result arrived in time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime

import pika

SCHEMA = "mailpipe.outbound_email.v1"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Publish a mailpipe job and wait for its result")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--namespace", default="mailpipe")
    parser.add_argument("--mailbox", required=True, help="the service mailbox to send through")
    parser.add_argument("--to", required=True, action="append", help="a recipient (repeatable)")
    parser.add_argument("--subject", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--job-id", default=None, help="idempotency key (default: a new uuid)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")
    return parser.parse_args(argv)


def job_payload(args: argparse.Namespace, job_id: str) -> dict[str, object]:
    return {
        "schema": SCHEMA,
        "job_id": job_id,
        "mailbox": args.mailbox,
        "to": [{"address": address} for address in args.to],
        "subject": args.subject,
        "text": args.text,
        "created_at": datetime.now(UTC).isoformat(),
    }


def bind_results(channel: pika.adapters.blocking_connection.BlockingChannel, ns: str) -> str:
    """A server-named, exclusive queue for results (gone when we disconnect). Bound before
    publishing, so the result cannot arrive before anyone listens."""
    declared = channel.queue_declare(queue="", exclusive=True, auto_delete=True)
    queue = str(declared.method.queue)
    channel.queue_bind(queue=queue, exchange=f"{ns}.events", routing_key="outbound.*")
    return queue


def publish(
    channel: pika.adapters.blocking_connection.BlockingChannel,
    ns: str,
    mailbox: str,
    payload: dict[str, object],
) -> None:
    channel.confirm_delivery()  # basic_publish raises if the broker nacks or cannot route it
    channel.basic_publish(
        exchange=f"{ns}.outbound",
        routing_key=f"outbound.{mailbox.lower()}",
        body=json.dumps(payload).encode("utf-8"),
        properties=pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=uuid.uuid4().hex,
            correlation_id=str(payload["job_id"]),
            type=SCHEMA,
        ),
        mandatory=True,
    )


def wait_for_result(
    channel: pika.adapters.blocking_connection.BlockingChannel,
    queue: str,
    job_id: str,
    timeout: float,
) -> dict[str, object] | None:
    deadline = time.monotonic() + timeout
    for method, _properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=0.5):
        if method is not None:
            result = json.loads(body)
            if result.get("job_id") == job_id:  # other jobs' results pass by too
                return dict(result)
        if time.monotonic() > deadline:
            return None
    return None


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    job_id = args.job_id or f"example-{uuid.uuid4().hex}"
    connection = pika.BlockingConnection(pika.URLParameters(args.amqp_url))
    try:
        channel = connection.channel()
        queue = bind_results(channel, args.namespace)
        try:
            publish(channel, args.namespace, args.mailbox, job_payload(args, job_id))
        except pika.exceptions.UnroutableError:
            print(
                f"job {job_id}: no queue took it: is mailpipe's topology declared in "
                f"namespace {args.namespace!r}?",
                file=sys.stderr,
            )
            return 2
        result = wait_for_result(channel, queue, job_id, args.timeout)
    finally:
        connection.close()
    if result is None:
        print(f"job {job_id}: no result within {args.timeout:g} s", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0 if result.get("status") == "sent" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
