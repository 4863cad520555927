"""``docker compose up`` for real: the demo stack, scaled, with kills and a broker restart.

One stack per module (see conftest.py); the tests run in file order on it, from a single
mail to 500 mails and 200 jobs through three ticketers and two senders while containers die.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import httpx

from libs.common.broker import Names
from tests.compose.conftest import TALLY
from tests.compose.stack import MAILBOX, SERVICES, Stack, job, mail, mail_header, wait_for

IMAGE_LIMIT_BYTES = 450 * 1000 * 1000
SCALE = ("--scale", "ticketer=3", "--scale", "sender=2")


def _health(stack: Stack, container: str) -> str:
    state = stack.inspect(container)["State"]
    return str(state.get("Health", {}).get("Status", state["Status"]))


def _acks(stack: Stack) -> int:
    return sum(n for job_id, n in stack.sent_by_job().items() if job_id.startswith("ack:"))


def test_demo_stack_comes_up_healthy_and_a_mail_becomes_a_record_answered_once(
    stack: Stack,
) -> None:
    for service in ("rabbitmq", "postgres", "ticketer", "sender", "graphsim", "blobs-gc"):
        (container,) = stack.container_ids(service)
        assert _health(stack, container) == "healthy", service
    fetchers = stack.container_ids("fetcher")
    assert len(fetchers) == 2, "compose runs two fetchers, sharing the mailboxes"
    assert all(_health(stack, c) == "healthy" for c in fetchers)
    (migrate,) = stack.container_ids("migrate", all_states=True)
    assert stack.inspect(migrate)["State"]["ExitCode"] == 0

    stack.post_mail([mail(stack.run, 0)])
    wait_for("the record", lambda: len(stack.inbound()) == 1)
    wait_for("its acknowledgement", lambda: _acks(stack) == 1)
    assert list(stack.inbound().values()) == [(1, 1)]
    (subject,) = stack.sql(f"SELECT subject FROM records WHERE subject LIKE '%{stack.run}%'")[0]
    assert subject == f"compose {stack.run} request 0"
    wait_for("the inbox to be empty", lambda: stack.mailbox()["folders"]["inbox"] == 0, 120)
    TALLY.used = True
    TALLY.mails += 1
    TALLY.records += 1


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_REPLY_KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


def _field(pattern: re.Pattern[str], page: str) -> str:
    found = pattern.search(page)
    assert found is not None, f"no {pattern.pattern} on the page"
    return found.group(1)


@contextmanager
def _agent(stack: Stack) -> Iterator[httpx.Client]:
    """A console agent of this run, signed in over the published port."""
    name, password = f"agent{stack.run}", secrets.token_urlsafe(18)
    stack.compose(
        "exec", "-T", "web", "mailpipe", "admin", "create-user", name,
        "--role", "agent", "--password-stdin", stdin=password + "\n",
    )  # fmt: skip
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.web_port}", timeout=30) as client:
        token = _field(_CSRF, client.get("/login").text)
        form = {"username": name, "password": password, "csrf_token": token, "next": "/"}
        signed = client.post("/login", data=form)
        assert signed.status_code == 303, signed.text[:300]
        yield client


def test_an_agent_answers_from_the_console_and_the_stack_sends_it(stack: Stack) -> None:
    """The console reaches the broker, the mailboxes' config and the senders as the services
    do: a reply from the record page is sent once and shown as sent."""
    ((record_id,),) = stack.sql(f"SELECT id FROM records WHERE subject LIKE '%{stack.run}%'")
    with _agent(stack) as agent:
        page = agent.get(f"/records/{record_id}").text
        key = _field(_REPLY_KEY, page)
        form = {"csrf_token": _field(_CSRF, page), "key": key, "from_address": MAILBOX}
        sent = agent.post(f"/records/{record_id}/reply", data={**form, "text": "On its way."})
        assert sent.status_code in (200, 303), sent.text[:300]
        job_id = f"console-{record_id}-{key}"
        wait_for("the reply to be sent", lambda: stack.sent_by_job()[job_id] == 1)
        shown = 'reply-state reply-sent" role="status"'
        wait_for("the thread to say sent", lambda: shown in agent.get(f"/records/{record_id}").text)
    assert stack.sent_by_job()[job_id] == 1
    TALLY.jobs_sent += 1


def test_services_run_as_non_root_from_an_image_under_450_mb(stack: Stack) -> None:
    for service in SERVICES:
        for container in stack.container_ids(service):
            uid = stack.compose("exec", "-T", service, "id", "-u").strip()
            assert uid == "10001", service
            assert stack.inspect(container)["Config"]["User"].startswith("mailpipe"), service
    image = stack.inspect(stack.container_ids("ticketer")[0])["Image"]
    size = int(stack.inspect(image)["Size"])
    assert size < IMAGE_LIMIT_BYTES, f"image is {size / 1e6:.0f} MB"


_KNOWN: list[str] = []


def _secrets(stack: Stack) -> list[str]:
    config = stack.compose("exec", "-T", "ticketer", "cat", "/demo/mailpipe.toml")
    (client_secret,) = re.findall(r'client_secret = "([^"]+)"', config)
    _KNOWN[:] = [*stack.passwords.values(), client_secret]
    return list(_KNOWN)


def _secrets_known(stack: Stack) -> list[str]:
    # Read while the stack runs (test order); the passwords alone if that test did not run.
    return list(_KNOWN) or list(stack.passwords.values())


def test_secrets_reach_the_containers_only_as_files_and_never_a_log(stack: Stack) -> None:
    secrets = _secrets(stack)
    for service in (*SERVICES, "migrate", "rabbitmq", "postgres"):
        for container in stack.container_ids(service, all_states=True):
            env = "\n".join(stack.inspect(container)["Config"]["Env"] or [])
            assert not [s for s in secrets if s in env], f"a secret in the environment of {service}"
    for service, name in (("ticketer", "rabbitmq_password"), ("sender", "postgres_password")):
        mounted = stack.compose("exec", "-T", service, "cat", f"/run/secrets/{name}")
        assert mounted.strip() in stack.passwords.values()
    logs = stack.logs()
    assert not [s for s in secrets if s in logs], "a secret in docker compose logs"


def _queue_depths(stack: Stack) -> dict[str, int]:
    out = stack.compose(
        "exec", "-T", "rabbitmq", "rabbitmqctl", "-q", "list_queues",
        "name", "messages_ready", "messages_unacknowledged",
    )  # fmt: skip
    rows = [line.split() for line in out.splitlines()]
    # rabbitmqctl prints a header line even with -q; the numbers tell the rows apart.
    return {r[0]: int(r[1]) + int(r[2]) for r in rows if len(r) == 3 and r[1].isdigit()}


def _busy_queues(stack: Stack) -> dict[str, int]:
    """The consumed queues (work queues and their retry tiers) that still hold messages."""
    names = Names()  # docker-compose.yml leaves MAILPIPE_NAMESPACE at its default
    watched = {q for work in names.work_queues for q in (work.name, *work.retries)}
    return {q: n for q, n in _queue_depths(stack).items() if q in watched and n}


def _dead_lettered(stack: Stack) -> dict[str, int]:
    dead = {work.dead for work in Names().work_queues}
    return {q: n for q, n in _queue_depths(stack).items() if q in dead and n}


def _kill(container: str) -> None:
    subprocess.run(["docker", "kill", "--signal", "SIGKILL", container], check=True)


def _done(stack: Stack, mails: int, jobs: list[str]) -> bool:
    sent = stack.sent_by_job()
    return (
        len(stack.inbound()) == mails
        and all(sent[j] for j in jobs)
        and stack.mailbox()["folders"]["inbox"] == 0
        and _acks(stack) == mails
    )


def _progress(stack: Stack, jobs: list[str]) -> str:
    sent = stack.sent_by_job()
    return (
        f"{len(stack.inbound())} mails recorded, {sum(1 for j in jobs if sent[j])} jobs sent, "
        f"{stack.mailbox()['folders']['inbox']} in the inbox, {_acks(stack)} acknowledgements, "
        f"queues {_busy_queues(stack)}"
    )


def test_scaled_stack_loses_and_doubles_nothing_through_kills_and_restarts(
    stack: Stack,
) -> None:
    stack.up(*SCALE)
    assert len(stack.container_ids("ticketer")) == 3 and len(stack.container_ids("sender")) == 2
    mails = [mail(stack.run, i) for i in range(1, 501)]
    jobs = [job(stack.run, i) for i in range(200)]
    stack.post_mail(mails[:150])
    stack.publish_jobs(jobs[:100])
    wait_for("mail in flight", lambda: len(stack.inbound()) >= 20)
    _kill(stack.container_ids("ticketer")[0])  # mid-batch: its messages are redelivered
    stack.post_mail(mails[150:300])
    wait_for("more mail in flight", lambda: len(stack.inbound()) >= 170)
    _kill(stack.container_ids("fetcher")[0])  # between a publish and a delete, most likely
    stack.post_mail(mails[300:400])
    stack.compose("restart", "rabbitmq")  # every connection drops; queues are durable
    stack.up(*SCALE)  # back to full strength, everything healthy
    stack.publish_jobs(jobs[100:150])
    stack.compose("restart", "postgres")  # batches and claims in flight fail and are retried
    stack.up(*SCALE)
    stack.publish_jobs(jobs[150:])
    stack.post_mail(mails[400:])

    job_ids = [j["job_id"] for j in jobs]
    wait_for(
        "every mail recorded and answered, every job sent",
        lambda: _done(stack, 501, job_ids),
        600,
        _progress, stack, job_ids,
    )  # fmt: skip
    wait_for("the queues to drain", lambda: not _busy_queues(stack), 300, _busy_queues, stack)
    assert _dead_lettered(stack) == {}, "a message was dead-lettered"
    inbound, sent = stack.inbound(), stack.sent_by_job()
    lost = (501 - len(inbound)) + sum(1 for j in job_ids if not sent[j])
    doubled = [mid for mid, (n, records) in inbound.items() if (n, records) != (1, 1)]
    doubled += [j for j, n in sent.items() if n > 1]
    TALLY.mails += 500
    TALLY.records += sum(1 for n, _ in inbound.values() if n) - 1
    TALLY.jobs_sent += sum(1 for j in job_ids if sent[j])
    TALLY.lost += lost
    TALLY.duplicates += len(doubled)
    assert lost == 0 and doubled == []
    (records,) = stack.sql(f"SELECT count(*) FROM records WHERE subject LIKE '%{stack.run}%'")[0]
    assert int(records) == 501
    assert _acks(stack) == 501, "one acknowledgement per record"


def test_the_documented_backups_can_be_taken_and_restored(stack: Stack, tmp_path: Path) -> None:
    # docs/deployment.md "Backing up": the database (which holds the blobs), the broker's
    # definitions.
    report = f"report of run {stack.run}\n".encode()
    with_attachment = EmailMessage()
    with_attachment.set_content("The report is attached.")
    with_attachment.add_attachment(report, maintype="application", subtype="octet-stream")
    for header in ("From", "To", "Subject", "Message-ID", "Date"):
        with_attachment[header] = mail_header(stack.run, 9999, header)
    stack.post_mail([bytes(with_attachment)])
    wait_for("the record with the attachment", lambda: len(stack.inbound()) == 502)
    TALLY.mails += 1
    TALLY.records += 1

    pg = ("exec", "-T", "postgres")
    dump = stack.compose_bytes(*pg, "pg_dump", "-U", "mailpipe", "-Fc", "mailpipe")
    definitions = stack.compose(
        "exec", "-T", "rabbitmq", "rabbitmqctl", "-q", "export_definitions", "-"
    )
    assert {w.name for w in Names().work_queues} <= {
        q["name"] for q in json.loads(definitions)["queues"]
    }

    # Restored: the dump into a scratch database, the definitions over themselves.
    stack.compose(*pg, "createdb", "-U", "mailpipe", "restored")
    restore = ("pg_restore", "-U", "mailpipe", "-d", "restored", "--clean", "--if-exists")
    stack.compose(*pg, *restore, stdin=dump)
    count = "SELECT count(*) FROM records"
    assert stack.sql(count, database="restored") == stack.sql(count)
    blob = f"SELECT size FROM blobs WHERE sha256 = '{hashlib.sha256(report).hexdigest()}'"
    assert stack.sql(blob, database="restored") == [[str(len(report))]], "the attachment"
    (tmp_path / "definitions.json").write_text(definitions)
    stack.compose("cp", str(tmp_path / "definitions.json"), "rabbitmq:/tmp/definitions.json")
    stack.compose(
        "exec", "-T", "rabbitmq", "rabbitmqctl", "import_definitions", "/tmp/definitions.json"
    )


def test_every_container_stops_within_its_grace_period(stack: Stack) -> None:
    containers = {
        container: service
        for service in (*SERVICES, "rabbitmq", "postgres")
        for container in stack.container_ids(service)
    }
    stack.compose("stop")
    # A container still running at the end of its grace period is killed: exit code 137.
    codes = {c: stack.inspect(c)["State"]["ExitCode"] for c in containers}
    assert {containers[c]: code for c, code in codes.items() if code != 0} == {}
    logs = stack.logs()
    assert not [s for s in _secrets_known(stack) if s in logs], "a secret in docker compose logs"
