"""JSON decoding for the hot paths (Graph's delta pages and ``$batch`` answers, a few hundred
kilobytes per hundred mails): orjson, several times faster than the standard library.

orjson is stricter than :mod:`json`: it refuses what Graph can really send — a lone UTF-16
surrogate escape (Exchange cuts a string inside an emoji's pair) — and ``NaN``, numbers past a
double, a byte-order mark, text in another encoding than UTF-8. What it refuses is decoded by
:mod:`json`, so such input gives what :func:`json.loads` gives, or its error. One difference
is left: an integer past 64 bits comes back as a float (no Graph or contract number is that
large: sizes, counts, ids within 64 bits)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """:func:`json.loads` of ``data``, through orjson whenever orjson reads it alike."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
