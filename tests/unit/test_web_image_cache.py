"""The console's inline image cache: by content, bounded by bytes, least recently shown first."""

from __future__ import annotations

import pytest

from services.web.image_cache import ImageCache


def test_an_image_is_made_once_then_recalled() -> None:
    cache, calls = ImageCache(budget_bytes=100), []
    key = ("a" * 64, "image/png")

    def make(url: str) -> str:
        calls.append(url)
        return url

    assert cache.get(key, lambda: make("data:1")) == "data:1"
    assert cache.get(key, lambda: make("data:2")) == "data:1"
    assert calls == ["data:1"] and cache.held_bytes() == len("data:1")


def test_the_same_bytes_as_another_type_are_another_entry() -> None:
    cache = ImageCache(budget_bytes=100)
    assert cache.get(("s", "image/png"), lambda: "png") == "png"
    assert cache.get(("s", "image/gif"), lambda: "gif") == "gif"


def test_the_budget_forgets_the_least_recently_shown() -> None:
    cache = ImageCache(budget_bytes=10)
    cache.get(("a", "t"), lambda: "aaaa")
    cache.get(("b", "t"), lambda: "bbbb")
    cache.get(("a", "t"), lambda: "new!")  # a shown again: b is now the oldest
    cache.get(("c", "t"), lambda: "cccc")  # 12 > 10 bytes: b goes
    assert cache.held_bytes() == 8
    assert cache.get(("a", "t"), lambda: "new!") == "aaaa"
    assert cache.get(("b", "t"), lambda: "bbb2") == "bbb2"


def test_an_image_larger_than_the_budget_is_shown_but_not_kept() -> None:
    cache = ImageCache(budget_bytes=4)
    assert cache.get(("big", "t"), lambda: "0123456789") == "0123456789"
    assert cache.held_bytes() == 0
    assert cache.get(("big", "t"), lambda: "again") == "again"


def test_a_failed_read_keeps_nothing() -> None:
    cache = ImageCache(budget_bytes=100)

    def fail() -> str:
        raise OSError("unreadable")

    with pytest.raises(OSError):
        cache.get(("k", "t"), fail)
    assert cache.held_bytes() == 0
    assert cache.get(("k", "t"), lambda: "later") == "later"
