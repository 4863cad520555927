"""Reading helpers of :class:`GraphMail`: delta pages one by one, and messages out of
``$batch`` answers. Each takes the one function that fetches a JSON page or runs a batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from libs.common.graph._message import to_message
from libs.common.graph.errors import GraphUnavailable
from libs.common.graph.models import BatchOutcome, DeltaResult
from libs.common.mail.errors import MailError
from libs.common.mail.models import DeltaPage, MailMessage

#: Fetches one delta page: ``(url, params, page_size) -> JSON``.
PageGetter = Callable[[str, Mapping[str, str] | None, int], dict[str, Any]]


def delta_pages(
    get_page: PageGetter,
    url: str,
    select: Sequence[str] | None,
    page_size: int,
    *,
    resynced: bool = False,
) -> Iterator[DeltaPage]:
    """The pages from ``url`` (a folder's ``delta`` with ``select``, or a saved link as is)
    until the page with the delta link."""
    params = None if select is None else {"$select": ",".join(select)}
    while True:
        page = get_page(url, params, page_size)
        messages: list[MailMessage] = []
        removed: list[str] = []
        for item in page.get("value", []):
            if "@removed" in item:
                removed.append(str(item["id"]))
            else:
                messages.append(to_message(item))
        if "@odata.deltaLink" in page:
            yield DeltaPage(messages, removed, str(page["@odata.deltaLink"]), resynced)
            return
        yield DeltaPage(messages, removed, None, resynced)
        if "@odata.nextLink" not in page:
            raise GraphUnavailable(
                "delta page without @odata.nextLink or @odata.deltaLink",
                code="bad_delta_page",
                hint="Graph answered an incomplete delta page; retried later",
            )
        url, params = str(page["@odata.nextLink"]), None


def collect(pages: Iterable[DeltaPage]) -> DeltaResult:
    """A whole round from its pages; after a resync only what was read from scratch."""
    messages: list[MailMessage] = []
    removed: list[str] = []
    resynced = False
    for page in pages:
        if page.resynced and not resynced:
            resynced = True
            messages.clear()
            removed.clear()
        messages.extend(page.messages)
        removed.extend(page.removed)
        if page.cursor is not None:
            return DeltaResult(messages, removed, page.cursor, resynced)
    raise GraphUnavailable(
        "delta round without a delta link",
        code="bad_delta_page",
        hint="Graph answered an incomplete delta round; retried later",
    )


def messages_of(
    ids: Sequence[str], outcomes: Sequence[BatchOutcome]
) -> dict[str, MailMessage | MailError]:
    """Per id the message a ``$batch`` GET answered, or its typed error. A refused token
    raises: it is no message's fault."""
    out: dict[str, MailMessage | MailError] = {}
    for mid, result in zip(ids, outcomes, strict=True):
        if result.error is not None:
            if result.status == 401:
                raise result.error
            out[mid] = result.error
        elif isinstance(result.body, Mapping):
            out[mid] = to_message(result.body)
        else:
            out[mid] = GraphUnavailable(
                f"batch item {result.id} (get message) answered {result.status} without a "
                "JSON body",
                status=result.status,
                code="bad_batch_body",
                hint="Graph answered an unreadable message; retried later",
            )
    return out


def list_pages(
    get_json: Callable[..., dict[str, Any]], url: str, select: Sequence[str], top: int
) -> Iterator[MailMessage]:
    """Every message of a listing, page by page (``@odata.nextLink`` used as given)."""
    next_url: str | None = url
    params: dict[str, str] | None = {"$select": ",".join(select), "$top": str(top)}
    while next_url:
        page = get_json(next_url, what="list messages", params=params)
        yield from (to_message(item) for item in page.get("value", []))
        next_url, params = page.get("@odata.nextLink"), None
