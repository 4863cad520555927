"""Read one seeded message through every Graph route the fetcher uses, strictly.

Each JSON answer must be UTF-8 that ``json.loads`` takes, with no lone surrogate in any
string, and no answer may be a 5xx: this is what the fetcher meets on a real mailbox.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from libs.common.graph import MESSAGE_SELECT

BOX = "support@contoso.com"
USER = f"users/{BOX}"
SELECT = ",".join(MESSAGE_SELECT)
PREFER = 'IdType="ImmutableId", odata.maxpagesize=25'
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Served:
    """What the routes answered for one message."""

    delta: dict[str, Any]
    message: dict[str, Any]
    #: The message with every property (no ``$select``), as a folder listing shows it.
    full: dict[str, Any]
    attachments: list[dict[str, Any]]
    mime: bytes
    #: attachment id → bytes from ``attachments/{a}/$value``.
    attachment_bytes: dict[str, bytes] = field(default_factory=dict)


def strict_json(response: httpx.Response) -> Any:
    """The body of a successful JSON answer, which must not carry a lone surrogate."""
    assert response.is_success, (response.request.url, response.status_code, response.text[:300])
    data = json.loads(response.content.decode("utf-8"))
    _no_surrogates(data)
    return data


def _no_surrogates(value: Any) -> None:
    if isinstance(value, str):
        assert not _SURROGATE.search(value), repr(value[:80])
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_surrogates(key)
            _no_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_surrogates(item)


def _msg(mid: str) -> str:
    return f"{USER}/messages/{quote(mid, safe='')}"


def delta_items(g: httpx.Client, folder: str = "inbox") -> list[dict[str, Any]]:
    """One delta round from scratch, every page, with the fetcher's $select and page size."""
    url: str | None = f"{USER}/mailFolders/{folder}/messages/delta"
    params: dict[str, str] | None = {"$select": SELECT}
    items: list[dict[str, Any]] = []
    while url:
        page = strict_json(g.get(url, params=params, headers={"Prefer": PREFER}))
        items += page["value"]
        url, params = page.get("@odata.nextLink"), None
        assert url or page.get("@odata.deltaLink")
    return items


def batch_attachments(g: httpx.Client, mid: str) -> list[dict[str, Any]]:
    """The attachment list as a ``$batch`` item, the way the Graph client asks for it."""
    item = {
        "id": "0",
        "method": "GET",
        "url": f"/{_msg(mid)}/attachments",
        "headers": {"Prefer": 'IdType="ImmutableId"'},
    }
    answer = strict_json(g.post("$batch", json={"requests": [item]}))["responses"][0]
    assert answer["status"] == 200, answer
    return list(answer["body"]["value"])


def read_like_the_fetcher(g: httpx.Client, mid: str) -> Served:
    found = [m for m in delta_items(g) if m["id"] == mid]
    assert len(found) == 1
    message = strict_json(g.get(_msg(mid), params={"$select": SELECT}))
    full = strict_json(g.get(_msg(mid)))
    listing = strict_json(g.get(f"{USER}/mailFolders/inbox/messages", params={"$top": "1000"}))
    entity = {k: v for k, v in full.items() if k != "@odata.context"}
    assert [m for m in listing["value"] if m["id"] == mid] == [entity]
    listed = strict_json(g.get(f"{_msg(mid)}/attachments"))["value"]
    assert [a["id"] for a in batch_attachments(g, mid)] == [a["id"] for a in listed]
    mime = g.get(f"{_msg(mid)}/$value")
    assert mime.status_code == 200
    served = Served(found[0], message, full, listed, mime.content)
    for att in listed:
        path = f"{_msg(mid)}/attachments/{quote(att['id'], safe='')}"
        assert strict_json(g.get(path))["contentBytes"] == att["contentBytes"]
        raw = g.get(f"{path}/$value")
        assert raw.status_code == 200
        assert raw.content == base64.b64decode(att["contentBytes"])
        served.attachment_bytes[att["id"]] = raw.content
    return served
