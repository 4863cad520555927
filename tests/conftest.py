"""Shared fixtures: where the real services are, and a namespace of our own per test.

RabbitMQ comes from ``MAILPIPE_TEST_AMQP_URL``, else the local broker on 127.0.0.1:5672, else a
testcontainers container where Docker runs. When none is there the test *fails* and says how to
provide one: a missing broker never turns into a silent skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests: CI (.ci/run sets the profile) draws the same examples every run, seeded from
# each test, so that a CI run fails for a change, never for a draw; elsewhere every run draws
# anew and goes on looking where CI does not.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("MAILPIPE_HYPOTHESIS_PROFILE", "default"))

pytest_plugins = ["tests.db_fixtures", "tests.graphsim_fixtures", "tests.gmailsim_fixtures"]

# tests/compose drives the real stack through `docker compose`: `make compose-test` runs it on a
# Docker prepared by scripts/docker-prepare.sh (which names the images in this variable); the
# suite leaves it out, and run without that variable the compose tests fail saying how to run them.
collect_ignore = [] if os.environ.get("MAILPIPE_COMPOSE_IMAGES") else ["compose"]

LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
LOCAL_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

HOW_TO_PROVIDE_BROKER = (
    "no RabbitMQ for the tests: start the local one (`rabbitmq-server -detached`, or run "
    "`make test`, which starts it), set MAILPIPE_TEST_AMQP_URL=amqp://user:pass@host:5672//, "
    "or install Docker so testcontainers can start one"
)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """The AMQP URL of a real RabbitMQ; fails (never skips) when there is none."""
    url = os.environ.get("MAILPIPE_TEST_AMQP_URL")
    if url:
        yield url
        return
    if _port_open("127.0.0.1", 5672):
        yield LOCAL_AMQP_URL
        return
    try:
        from testcontainers.community.rabbitmq import (
            RabbitMqContainer,
        )
    except ImportError:
        pytest.fail(HOW_TO_PROVIDE_BROKER, pytrace=False)
    try:
        container = RabbitMqContainer("rabbitmq:3.13-management").start()
    except Exception as exc:  # docker missing or refused
        pytest.fail(f"{HOW_TO_PROVIDE_BROKER} (testcontainers: {exc})", pytrace=False)
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(5672)
        yield f"amqp://guest:guest@{host}:{port}//"
    finally:
        container.stop()


@pytest.fixture(scope="session")
def run_id() -> str:
    """A short id unique to this test run; every broker name of the run contains it."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def namespace(run_id: str) -> str:
    """A broker namespace no other test, and no other test run, shares."""
    return f"t{run_id}-{uuid.uuid4().hex[:6]}"
