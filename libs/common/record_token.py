"""The record token in subjects (``[#12]`` by default): made by the sender, found by the ticketer.

The format is a setting with exactly one ``{id}`` placeholder. Finding is tolerant: anywhere
in the subject (so after "Re:", "AW:", "Fwd:" … and their stacks,
``libs/common/subject_prefix.py``), any letter case, and extra whitespace inside the token
("[ # 12 ]"). The first token in the subject wins. A format that does not open with a bracket
("#{id}") is only found where no letter or digit precedes it: "ZD#12" is another system's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from libs.common.contracts import check_send_header_value
from libs.common.errors import ConfigError
from libs.common.subject_prefix import prefix_end

DEFAULT_TOKEN_FORMAT = "[#{id}]"  # noqa: S105 - a subject token, not a secret
_PLACEHOLDER = "{id}"
_OPENING = tuple("[({<")


def check_token_format(fmt: str) -> str:
    """``fmt`` when usable; a :class:`ConfigError` saying what is wrong otherwise."""
    if fmt.count(_PLACEHOLDER) != 1:
        raise ConfigError(
            f"record token format {fmt!r} must contain {_PLACEHOLDER} exactly once",
            hint=f"use something like {DEFAULT_TOKEN_FORMAT!r}",
        )
    try:
        check_send_header_value(fmt)  # it goes into every subject we send: the send rule
    except ValueError as exc:
        raise ConfigError(
            f"record token format: {exc}", hint=f"use something like {DEFAULT_TOKEN_FORMAT!r}"
        ) from None
    if not fmt.replace(_PLACEHOLDER, "").strip():
        # A bare number would be found in any subject that mentions one.
        raise ConfigError(
            f"record token format {fmt!r} needs text around {_PLACEHOLDER}",
            hint=f"use something like {DEFAULT_TOKEN_FORMAT!r}",
        )
    return fmt


def record_token(record_id: int, fmt: str = DEFAULT_TOKEN_FORMAT) -> str:
    """The token for ``record_id`` (``[#12]``)."""
    return check_token_format(fmt).replace(_PLACEHOLDER, str(record_id))


@lru_cache(maxsize=32)
def _token_pattern(fmt: str) -> re.Pattern[str]:
    before, _, after = check_token_format(fmt).partition(_PLACEHOLDER)
    pattern = _loose(before) + r"\s*(\d{1,18})\s*" + _loose(after)
    if before[:1] not in _OPENING:
        # "#{id}" must not find another system's "ZD#123" (a bracket opens a token anywhere).
        pattern = r"(?<![A-Za-z0-9])" + pattern
    if not after or after[-1:].isalnum():
        pattern += r"(?![A-Za-z0-9])"
    return re.compile(pattern, re.IGNORECASE)


def _loose(text: str) -> str:
    """A literal piece of the format where any whitespace may be added or dropped."""
    return r"\s*".join(re.escape(c) for c in text if not c.isspace())


def find_record_token(subject: str, fmt: str = DEFAULT_TOKEN_FORMAT) -> int | None:
    """The record id of the first token in ``subject``, or ``None``."""
    found = _token_pattern(fmt).search(subject)
    return int(found.group(1)) if found else None


def apply_record_token(subject: str, record_id: int, fmt: str = DEFAULT_TOKEN_FORMAT) -> str:
    """``subject`` with the token of ``record_id``, added once, after any "Re:"-like prefix.

    Idempotent: a subject whose first token already names this record is kept as it is.
    A subject carrying another record's token gets this one in front of it.
    """
    if find_record_token(subject, fmt) == record_id:
        return subject
    token = record_token(record_id, fmt)
    head = subject[: prefix_end(subject)]
    rest = subject[len(head) :].strip()
    return f"{head}{token} {rest}".strip() if rest else f"{head}{token}".strip()
