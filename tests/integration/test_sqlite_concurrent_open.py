"""Services that open a new SQLite file at the same moment (the ticketer and the sender of
one host start together) all start: the switch to WAL and the migration wait for each other
instead of failing with "database is locked"."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: One service's start on the database: migrate, then a first connection.
OPEN = """
import sys, time
from sqlalchemy import text
from libs.common.db import ensure_schema
from libs.common.db.engine import make_engine
start = float(sys.argv[2])
while time.time() < start:
    pass
ensure_schema(sys.argv[1])
engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    print(conn.execute(text("PRAGMA journal_mode")).scalar_one())
"""


def test_processes_opening_a_new_file_together_all_succeed(tmp_path: Path) -> None:
    for round_ in range(2):
        url = f"sqlite:///{tmp_path}/race-{round_}.db"
        start = time.time() + 1.5  # every process is up and spinning by then
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, url, str(start)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, err[-2000:]
            assert out.strip() == "wal"
