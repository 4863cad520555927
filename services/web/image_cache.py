"""Inline images already drawn, as their ``data:`` URLs, kept in memory by content.

A record page carries its images in its HTML, and so does each live update of it
(docs/console.md, "Inline images"): without this, every open page would read each of its
images from the blob store again at every new mail. Blobs are named by their SHA-256, so an
entry never goes stale; the cache is bounded by the bytes it holds and forgets the least
recently shown first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

#: What the cache may hold: a few pages' worth of images (a thread shows at most 8 MiB).
DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024


class ImageCache:
    """``get(key, make)``: the URL cached under ``key``, else ``make()``'s, then cached."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._held = 0
        self._urls: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], make: Callable[[], str]) -> str:
        with self._lock:
            url = self._urls.get(key)
            if url is not None:
                self._urls.move_to_end(key)
                return url
        url = make()  # outside the lock: a blob read must not hold up other pages
        self._keep(key, url)
        return url

    def held_bytes(self) -> int:
        with self._lock:
            return self._held

    def _keep(self, key: tuple[str, str], url: str) -> None:
        if len(url) > self._budget:
            return
        with self._lock:
            if key in self._urls:
                return
            self._urls[key] = url
            self._held += len(url)
            while self._held > self._budget:
                _, dropped = self._urls.popitem(last=False)
                self._held -= len(dropped)
