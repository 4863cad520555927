"""What a page of Gmail history means for one label: which messages came in, which left.
Pure: records in, ids out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def changes_of(records: Iterable[Mapping[str, Any]], label: str) -> tuple[list[str], list[str]]:
    """(added, removed) ids, each message by its last change in the records: added to the
    label (a new message in it, the label put on), or removed (deleted, the label taken off).
    The history is read unfiltered: Gmail's ``labelId`` filter judges by the labels a message
    has now, so it would hide a message that just left the label."""
    state: dict[str, bool] = {}
    for record in records:
        for item in record.get("messagesAdded", []):
            if label in item["message"].get("labelIds", []):
                state[str(item["message"]["id"])] = True
        for item in record.get("labelsAdded", []):
            if label in item.get("labelIds", []):
                state[str(item["message"]["id"])] = True
        for item in record.get("labelsRemoved", []):
            if label in item.get("labelIds", []):
                state[str(item["message"]["id"])] = False
        for item in record.get("messagesDeleted", []):
            state[str(item["message"]["id"])] = False
    return [m for m, inside in state.items() if inside], [
        m for m, inside in state.items() if not inside
    ]
