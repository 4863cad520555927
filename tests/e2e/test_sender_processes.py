"""Sender processes against the simulator, a real RabbitMQ and PostgreSQL: ``kill -9`` in
the middle of 500 jobs, and three senders sharing one queue for 1,000 jobs."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.common.broker import Broker, Names
from libs.graphsim.testing import SimHandle
from services.sender.joblog import JobLog
from tests.broker_helpers import wait_until
from tests.integration.test_sender_support import (
    Results,
    log_events,
    make_job,
    publish_job,
    sender_env,
    sent_list,
    start_sender,
    stop_all,
    write_config,
)

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def broker(amqp_url: str, namespace: str) -> Iterator[Broker]:
    # The processes use the default retry tiers; the test declares the same topology so it
    # can publish before they are up.
    b = Broker(amqp_url, Names(namespace))
    b.declare()
    try:
        yield b
    finally:
        b.close()
        b.delete()


@pytest.fixture
def results(broker: Broker) -> Iterator[Results]:
    reader = Results(broker)
    yield reader
    reader.delete()


def sent_by_job(sim: SimHandle) -> Counter[str]:
    return Counter(entry["headers"]["X-Mailpipe-Job-Id"] for entry in sent_list(sim))


def test_kill_9_during_500_jobs_sends_every_job_and_only_the_window_twice(
    sim: SimHandle,
    broker: Broker,
    results: Results,
    amqp_url: str,
    namespace: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml")
    # A claim left by a killed sender is taken over after 2 s (default 10 min).
    env = sender_env(
        amqp_url,
        namespace,
        database_url,
        config,
        tmp_path / "blobs",
        MAILPIPE_SENDER_STALE_CLAIM_S="2",
    )
    log_file = tmp_path / "sender.log"
    jobs = [make_job(f"kill-{i:03d}") for i in range(500)]
    for job in jobs:
        publish_job(broker, job)
    procs: list[subprocess.Popen[bytes]] = []
    kills = 0
    try:
        for threshold in (120, 300):
            procs.append(start_sender(env, log_file))
            assert wait_until(lambda t=threshold: len(sent_list(sim)) >= t, 180)
            procs[-1].send_signal(signal.SIGKILL)  # no chance to finish, ack or log
            procs[-1].wait()
            kills += 1
        procs.append(start_sender(env, log_file))
        results.wait_count(500, timeout_s=300)
    finally:
        stop_all(procs)
    counts = sent_by_job(sim)
    assert set(counts) == {job.job_id for job in jobs}, "every job was sent"
    duplicates = {job_id: n for job_id, n in counts.items() if n > 1}
    joblog = JobLog.open(database_url)
    try:
        entries = {job.job_id: joblog.get_job(job.job_id) for job in jobs}
    finally:
        joblog.close()
    assert all(e is not None and e.status == "sent" for e in entries.values())
    # The window: Graph accepted the message, the sender died before logging it. Such a job's
    # claim was taken over after it went stale (attempts > 1), and its copies share one
    # Message-ID. Nothing else may send a job twice.
    taken_over = {job_id for job_id, e in entries.items() if e is not None and e.attempts > 1}
    print(f"kills={kills} taken_over={sorted(taken_over)} duplicates={duplicates}")
    assert len(duplicates) <= kills
    assert all(n == 2 for n in duplicates.values())
    assert set(duplicates) <= taken_over
    for job_id in duplicates:
        ids = {
            e["internet_message_id"]
            for e in sent_list(sim)
            if e["headers"]["X-Mailpipe-Job-Id"] == job_id
        }
        assert len(ids) == 1, f"{job_id}: both copies carry the same Message-ID"


def test_three_senders_on_one_queue_send_1000_jobs_once_each(
    sim: SimHandle,
    broker: Broker,
    results: Results,
    amqp_url: str,
    namespace: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    config = write_config(sim, tmp_path / "mailpipe.toml")
    env = sender_env(amqp_url, namespace, database_url, config, tmp_path / "blobs")
    logs = [tmp_path / f"sender-{i}.log" for i in range(3)]
    procs = [start_sender(env, log) for log in logs]
    try:
        jobs = [make_job(f"three-{i:04d}") for i in range(1000)]
        for job in jobs:
            publish_job(broker, job)
        got = results.wait_count(1000, timeout_s=300)
    finally:
        stop_all(procs)
    assert all(p.returncode == 0 for p in procs)
    counts = sent_by_job(sim)
    assert len(counts) == 1000 and set(counts.values()) == {1}
    assert {r.status for r in got} == {"sent"} and len(got) == 1000
    per_process = [sum(1 for e in log_events(log) if e.get("event") == "job sent") for log in logs]
    assert sum(per_process) == 1000
    assert all(n > 0 for n in per_process), per_process
