"""The real-world corpus the project ships (``tests/corpora/realworld``), as samples.

Every file there is a mail exactly as its source published it; ``labels.json`` names each
one's source (with its licence) and what is certain about it (see
:class:`~tests.e2e.samples.Sample`). A file without a label, or a label without a file, is an
error: the corpus and its manifest move together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from tests.e2e.samples import Kind, Sample

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "realworld"
KINDS = ("request", "automatic", "any")


def corpus_samples(root: Path = CORPUS) -> list[Sample]:
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    sources: dict[str, Any] = labels["sources"]
    mail: dict[str, dict[str, str]] = labels["mail"]
    files = {
        f"{p.parent.name}/{p.name}"
        for p in root.glob("*/*")
        if p.is_file() and p.parent.name in sources
    }
    if files != set(mail):
        raise AssertionError(
            f"labels.json and the files disagree: unlabelled {sorted(files - set(mail))}, "
            f"missing {sorted(set(mail) - files)}"
        )
    for source in sources.values():
        if not (root / source["licence_file"]).is_file():
            raise AssertionError(f"licence text missing: {source['licence_file']}")
    return [_sample(root, name, entry) for name, entry in sorted(mail.items())]


def _sample(root: Path, name: str, entry: dict[str, str]) -> Sample:
    kind = entry.get("kind", "any")
    if kind not in KINDS:
        raise AssertionError(f"{name}: kind {kind!r} is not one of {KINDS}")
    return Sample(
        name=name,
        raw=(root / name).read_bytes(),
        kind=cast(Kind, kind),
        subject=entry.get("subject"),
        body=entry.get("body"),
        note=entry.get("note", ""),
    )
