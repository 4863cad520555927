"""libs.common.fastjson: what it decodes is what the standard library decodes, including what
orjson alone refuses (the lone surrogates Exchange sends when it cuts an emoji in two)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.fastjson import loads

# Every value JSON can carry, strings with any code point (lone surrogates too), integers
# within 64 bits (the one difference, documented in the module), and floats.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    # NaN-free data: equality, and the types too (True is no 1, 1.0 no 1).
    return json.dumps(a) == json.dumps(b) and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(value=_values, ascii_only=st.booleans())
def test_decodes_as_the_standard_library_does(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    expected = json.loads(text)
    assert _same(loads(text), expected)
    try:
        data = text.encode("utf-8")  # as Graph sends it; a raw lone surrogate is not UTF-8
    except UnicodeEncodeError:
        return
    assert _same(loads(data), expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"subject":"Ticket \\ud83d"}', {"subject": "Ticket \ud83d"}),
        (b'{"subject":"\\ude00 end"}', {"subject": "\ude00 end"}),
        (b'{"size":NaN}', None),
        (b'{"size":1e400}', {"size": float("inf")}),
        (b'\xef\xbb\xbf{"value":[]}', {"value": []}),
        ('{"a":"x"}'.encode("utf-16"), {"a": "x"}),
    ],
)
def test_what_orjson_refuses_comes_from_the_standard_library(data: bytes, expected: Any) -> None:
    got = loads(data)
    if expected is None:
        assert got["size"] != got["size"]  # NaN
    else:
        assert got == expected


@pytest.mark.parametrize("data", [b"", b"{", b'{"a":"\xff"}', b"[1,]", b"nul"])
def test_bad_json_raises_what_the_standard_library_raises(data: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        loads(data)
    with pytest.raises(ValueError) as theirs:
        json.loads(data)
    assert type(ours.value) is type(theirs.value)
