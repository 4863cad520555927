"""Every mail of the shared bounce corpus is classified as its README says (≥ 95 % per class).

Run with ``-s`` to see the accuracy table; it is also part of every assertion message.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.ticketer.domain.classify import classify
from services.ticketer.domain.mime import parse_mime
from services.ticketer.domain.verdict import Classification, Kind

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpora" / "bounces"
CLASS_OF_REASON: dict[str, Kind] = {
    "vacation": "auto_reply",
    "feedback": "feedback",
    "delivered": "delivery_success",
    "not-a-bounce": "request",
}
MIN_CLASS_ACCURACY = 0.95
MIN_STATUS_ACCURACY = 0.85
# sisimai's own pseudo codes (x.0.9xx) stand for "no code in the mail"; nothing to recover.
PSEUDO_STATUS = re.compile(r"^\d\.0\.9\d\d$")


@dataclass(frozen=True)
class Outcome:
    name: str
    expected: Kind
    result: Classification
    statuses: frozenset[str]


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    if not (CORPUS / "labels.json").is_file() or not (CORPUS / "mail").is_dir():
        pytest.fail(
            f"bounce corpus not found at {CORPUS} (expected labels.json and mail/ there, "
            "next to the repository as ../shared/corpora/bounces)"
        )
    labels = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    found = []
    for name, entries in sorted(labels.items()):
        facts = parse_mime((CORPUS / "mail" / name).read_bytes()).facts
        result = classify(
            facts,
            mailbox="helpdesk@contoso.example",
            own_message_id_domain="mailpipe.contoso.example",
            ignore_senders=(),
        )
        expected = CLASS_OF_REASON.get(entries[0]["reason"], "bounce")
        statuses = frozenset(
            e.get("deliverystatus", "")
            for e in entries
            if e.get("deliverystatus") and not PSEUDO_STATUS.match(e["deliverystatus"])
        )
        found.append(Outcome(name, expected, result, statuses))
    assert len(found) == len(list((CORPUS / "mail").glob("*.eml")))
    return found


def accuracy_table(outcomes: list[Outcome]) -> str:
    totals = Counter(o.expected for o in outcomes)
    right = Counter(o.expected for o in outcomes if o.result.kind == o.expected)
    lines = ["class             right/total  accuracy"]
    for kind in sorted(totals):
        share = right[kind] / totals[kind]
        lines.append(f"{kind:<17} {right[kind]:>5}/{totals[kind]:<5}  {share:8.1%}")
    wrong = [
        f"  {o.name}: {o.expected} → {o.result.kind} ({o.result.reason})"
        for o in outcomes
        if o.result.kind != o.expected
    ]
    return "\n".join(lines + (["misclassified:", *wrong] if wrong else []))


def test_every_class_meets_the_accuracy_target(outcomes: list[Outcome]) -> None:
    table = accuracy_table(outcomes)
    print("\n" + table)
    totals = Counter(o.expected for o in outcomes)
    assert set(totals) == {"bounce", "auto_reply", "feedback", "delivery_success", "request"}, table
    for kind, total in totals.items():
        right = sum(1 for o in outcomes if o.expected == kind and o.result.kind == kind)
        assert right / total >= MIN_CLASS_ACCURACY, f"{kind} below target\n{table}"


def test_only_not_a_bounce_mail_becomes_a_request(outcomes: list[Outcome]) -> None:
    requests = [o.name for o in outcomes if o.result.kind == "request"]
    labelled = [o.name for o in outcomes if o.expected == "request"]
    assert requests == labelled, accuracy_table(outcomes)
    assert all(not o.result.may_acknowledge for o in outcomes if o.expected != "request")


def test_bounce_status_codes_are_recovered(outcomes: list[Outcome]) -> None:
    checked = [o for o in outcomes if o.expected == "bounce" and o.statuses]
    right = [o for o in checked if o.statuses & {f.status for f in o.result.failures}]
    misses = [
        f"  {o.name}: labelled {sorted(o.statuses)}, got "
        f"{sorted({f.status for f in o.result.failures})}"
        for o in checked
        if o not in right
    ]
    share = len(right) / len(checked)
    report = f"status codes recovered: {len(right)}/{len(checked)} = {share:.1%}\n" + "\n".join(
        misses
    )
    print("\n" + report)
    assert len(checked) > 200, report
    assert share >= MIN_STATUS_ACCURACY, report


def test_bounces_carry_failures_and_mostly_the_returned_message_id(
    outcomes: list[Outcome],
) -> None:
    bounces = [o for o in outcomes if o.result.kind == "bounce"]
    assert all(o.result.failures for o in bounces)
    with_id = [o for o in bounces if o.result.original_message_id]
    print(f"\nreturned Message-ID found in {len(with_id)}/{len(bounces)} bounces")
    # Many corpus bounces return no copy of the message at all; most that do are found.
    assert len(with_id) / len(bounces) >= 0.6, f"{len(with_id)}/{len(bounces)}"
