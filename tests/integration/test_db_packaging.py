"""The migrations ship with the package: Alembic's files are package data, found from anywhere.

Builds the package tree exactly as a wheel gets it (setuptools ``build_py``, which copies the
packages and their package data into the wheel's root) from a copy of the sources, then migrates
a database with nothing but that tree on the path, from an unrelated working directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from libs.common.db import current_revision

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = Path("libs/common/db/migrations")
SHIPPED = (
    "alembic.ini",
    "script.py.mako",
    "env.py",
    "versions/__init__.py",
    "versions/0001_initial.py",
)

BUILD_PY = "from setuptools import setup; setup()"

MIGRATE_FROM_BUILD = """
import sys
import libs.common.db as db
assert db.__file__.startswith(sys.argv[2]), db.__file__
db.migrate(sys.argv[1])
print(db.current_revision(sys.argv[1]))
"""


def _build(tmp_path: Path) -> Path:
    src, out = tmp_path / "src", tmp_path / "build"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*")
    for package in ("mailpipe", "libs", "services", "bench"):
        if (ROOT / package).is_dir():  # a package that does not exist yet is not shipped
            shutil.copytree(ROOT / package, src / package, ignore=junk)
    subprocess.run(
        [sys.executable, "-c", BUILD_PY, "-q", "build_py", "--build-lib", str(out)],
        cwd=src,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_built_package_ships_the_migrations_and_migrates(tmp_path: Path) -> None:
    out = _build(tmp_path)
    for name in SHIPPED:
        assert (out / MIGRATIONS / name).is_file(), name
    assert not (out / "services/ticketer/migrations").exists()

    url = f"sqlite:///{tmp_path / 'mailpipe.db'}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE_FROM_BUILD, url, str(out)],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0020"
    assert current_revision(url) == "0020"


def test_built_package_ships_the_consoles_templates_and_static_files(tmp_path: Path) -> None:
    out = _build(tmp_path)
    web = out / "services" / "web"
    shipped = {p.name for p in (web / "templates").glob("*.html")}
    assert shipped == {p.name for p in (ROOT / "services/web/templates").glob("*.html")}
    # Every stylesheet, icon and script: a page naming a missing one loses its enhancement.
    static = {p.name for p in (web / "static").iterdir()}
    assert static == {p.name for p in (ROOT / "services/web/static").iterdir()}
    assert {"console.css", "record-live.js", "records-live.js"} <= static
