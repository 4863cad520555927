"""A broken mail among good ones: its attachment's blob is lost between the fetcher and the
ticketer (the ticketer was down while the fetcher published; then the blob went missing).
The mail is quarantined with its reason — listed by ``mailpipe quarantine list --json`` and
moved to the quarantine folder (a label on Gmail) — and the other mails are handled as usual.
``mailpipe quarantine replay`` then brings it back, and it becomes a record like the others.
On both providers (the ``provider`` fixture): removed mail is in Recoverable Items on
Microsoft, in the trash on Google."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.corpus import Corpus
from tests.e2e.harness import REPO, Stack, pipeline
from tests.e2e.scenario import check_outcomes, problems_text, seed

QUARANTINE = "mailpipe-quarantine"


def blobs_containing(stack: Stack, needle: bytes) -> list[Path]:
    return [p for p in stack.blob_dir.rglob("*") if p.is_file() and needle in p.read_bytes()]


def mailpipe(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mailpipe", *args],
        cwd=REPO,
        env=stack.env(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


def quarantine_list(stack: Stack) -> list[dict[str, object]]:
    return list(json.loads(mailpipe(stack, "quarantine", "list", "--json")))


def test_a_mail_whose_blob_is_lost_is_quarantined_and_the_others_are_not(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str
) -> None:
    with pipeline(
        tmp_path, amqp_url, database_url=database_url, provider=provider, poll_interval_s=0.5
    ) as stack:
        corpus = Corpus(seed=8, mailboxes=stack.mailboxes)
        box = stack.mailboxes[0]
        good = [corpus.request(box, v) for v in ("plain", "html", "attachment") * 6]
        broken = corpus.request(box, "attachment")
        seeded = seed(stack, [*good[:9], broken, *good[9:]])
        stack.start("fetcher")
        stack.wait_until(
            lambda: (
                sum(e["event"] == "mail published" for e in stack.log_events("fetcher"))
                == len(seeded)
            ),
            what="every mail published",
        )
        lost = blobs_containing(stack, f"log file of {broken.key}".encode())
        assert len(lost) == 1
        lost[0].unlink()

        stack.start("ticketer")
        stack.wait_until(
            lambda: (
                len(stack.processed_log()) == len(seeded)
                and stack.folders(box)["inbox"] == 0
                and stack.folders(box).get(QUARANTINE) == 1
            ),
            what="every mail handled, the broken one in quarantine",
        )
        broken_id = next(s.message_id for s in seeded if s.mail is broken)
        row = stack.processed_log()[(box, broken_id)]
        assert (row["outcome"], row["reason"]) == ("quarantined", "blob_missing")
        assert [m["id"] for m in stack.folder_messages(QUARANTINE, box)] == [broken_id]

        listed = quarantine_list(stack)
        assert [(q["message_id"], q["reason"], q["subject"]) for q in listed] == [
            (broken_id, "blob_missing", broken.subject)
        ]
        assert "MAILPIPE_BLOB_DIR" in str(listed[0]["detail"])  # the hint says what to do

        others = [s for s in seeded if s.mail is not broken]
        outcomes = check_outcomes(stack, others)
        # The quarantined mail made no record; everything else is exactly as expected.
        assert not outcomes.problems, problems_text(outcomes.problems)
        assert len(stack.records()) == len(others)
        removed = stack.removed(box)
        assert {s.message_id for s in others} <= removed
        assert broken_id not in removed

        # Replayed, the mail is fetched afresh (its attachment stored again) and becomes a record.
        mailpipe(stack, "quarantine", "replay", str(listed[0]["id"]))
        stack.wait_until(
            lambda: (
                stack.processed_log().get((box, broken_id), {}).get("outcome") == "created"
                and stack.folders(box)["inbox"] == 0
                and stack.folders(box).get(QUARANTINE, 0) == 0
            ),
            what="the replayed mail handled",
        )
        assert len(stack.records()) == len(seeded)
        assert quarantine_list(stack) == []
        assert broken_id in stack.removed(box)
