"""After processing, per mailbox setting: ``copy_to_folder`` keeps a copy in that folder and
deletes the original into Recoverable Items (on Gmail the copy is that label on the very
message, which leaves the inbox and is never trashed); ``after_processing = "move:<folder>"``
moves the mail there (a label instead of INBOX on Gmail). Fetcher and ticketer as processes,
on SQLite and on PostgreSQL, on both providers (``MailWorld.copies_kept_in``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.corpus import Corpus
from tests.e2e.harness import pipeline
from tests.e2e.scenario import check_outcomes, first_wave, problems_text, seed
from tests.e2e.worlds import HEAVY_MATRIX

COPIES = "processed-copies"
MODES: dict[str, dict[str, Any]] = {
    "copy": {"copy_to_folder": COPIES},
    "move": {"after_processing": "move:done"},
}


@pytest.mark.parametrize(("database_url", "provider"), HEAVY_MATRIX, indirect=True)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_processed_mail_is_copied_or_moved_as_configured(
    tmp_path: Path, amqp_url: str, database_url: str, provider: str, mode: str
) -> None:
    with pipeline(
        tmp_path,
        amqp_url,
        database_url=database_url,
        provider=provider,
        poll_interval_s=0.5,
        **MODES[mode],
    ) as stack:
        corpus = Corpus(seed=6, mailboxes=stack.mailboxes)
        seeded = seed(stack, first_wave(corpus, 45))
        assert len(seeded) >= 55
        stack.start("fetcher")
        stack.start("ticketer")
        stack.wait_until(
            lambda: (
                len(stack.processed_log()) == len(seeded)
                and all(stack.folders(box)["inbox"] == 0 for box in stack.mailboxes)
            ),
            timeout_s=180,
            what="every mail processed and out of the inbox",
        )
        outcomes = check_outcomes(stack, seeded)
        assert not outcomes.problems, problems_text(outcomes.problems)

        for box in stack.mailboxes:
            mine = [s for s in seeded if s.mail.mailbox == box]
            ids = {s.message_id for s in mine}
            removed = stack.removed(box)
            if mode == "copy":
                copies = stack.folder_messages(COPIES, box)
                # One copy of each mail (on Microsoft a new item: compare Message-IDs).
                counted = Counter(m["internetMessageId"].lower() for m in copies)
                assert counted == Counter(s.mail.message_id.lower() for s in mine)
                kept = stack.folder_messages(stack.world.copies_kept_in(COPIES), box)
                assert ids <= {m["id"] for m in kept}
                if stack.world.copy_keeps_id:
                    # The label is the copy: trashing the message would lose it.
                    assert not ids & removed
            else:
                assert {m["id"] for m in stack.folder_messages("done", box)} == ids
                assert not ids & removed
            assert stack.folders(box)["inbox"] == 0
