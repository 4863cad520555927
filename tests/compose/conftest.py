"""The real compose stack, once per test module, and the one summary line of the run.

``make compose-test`` prepares Docker (scripts/docker-prepare.sh), which writes the images to use
into the file named by ``MAILPIPE_COMPOSE_IMAGES``. Without that file the tests fail and say how
to run them: they never skip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.compose.stack import Stack

HOW_TO_RUN = (
    "the compose tests need Docker prepared by scripts/docker-prepare.sh: run `make compose-test`"
)


@dataclass
class Tally:
    mails: int = 0
    records: int = 0
    jobs_sent: int = 0
    lost: int = 0
    duplicates: int = 0
    used: bool = False

    def line(self) -> str:
        return (
            f"compose: {self.mails} mails, {self.records} records, {self.jobs_sent} jobs sent, "
            f"{self.lost} lost, {self.duplicates} duplicates"
        )


TALLY = Tally()


def _images() -> dict[str, str]:
    path = os.environ.get("MAILPIPE_COMPOSE_IMAGES")
    if not path or not Path(path).is_file():
        pytest.fail(HOW_TO_RUN)
    pairs = (line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own compose project, built and up (demo profile); logs kept on failure."""
    stack = Stack(_images())
    try:
        stack.compose("build", "migrate", timeout_s=1800)
        # The classic builder leaves the previous build's layers untagged; keep the disk tidy.
        subprocess.run(["docker", "image", "prune", "--force"], capture_output=True, check=False)
        stack.up()
        yield stack
    finally:
        logs = tmp_path_factory.mktemp("compose") / f"{stack.project}.log"
        logs.write_text(stack.compose("logs", "--no-color", check=False))
        print(f"\ncompose logs of {stack.project}: {logs}")
        stack.down()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.used:
        terminalreporter.write_line(TALLY.line())
