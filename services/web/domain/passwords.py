"""The password policy and the username's form."""

from __future__ import annotations

import re
import unicodedata

MIN_PASSWORD = 12
#: argon2 hashes anything, but a megabyte password is an attack on the CPU, not a password.
MAX_PASSWORD = 1024
MAX_USERNAME = 64
MAX_DISPLAY_NAME = 200

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]*")


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive and lookalike-insensitive: stored and compared in NFKC,
    case-folded, without outer spaces (``Alice``, and ``ALICE`` in full-width letters, are
    ``alice``)."""
    folded = unicodedata.normalize("NFKC", username).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def username_problem(username: str) -> str | None:
    """Why ``username`` (normalized) cannot name an account; ``None`` when it can."""
    if not username:
        return "Enter a username."
    if len(username) > MAX_USERNAME:
        return f"A username has at most {MAX_USERNAME} characters."
    if not _USERNAME.fullmatch(username):
        return "Use letters, digits and . _ @ - only, starting with a letter or digit."
    return None


def display_name_problem(display_name: str) -> str | None:
    """Why ``display_name`` is refused (too long, or a control or format character such as NUL,
    an escape or a bidirectional override); ``None`` when it is fine."""
    if len(display_name) > MAX_DISPLAY_NAME:
        return f"A display name has at most {MAX_DISPLAY_NAME} characters."
    if any(unicodedata.category(ch).startswith("C") for ch in display_name):
        return "A display name has no control characters."
    return None


def password_problem(username: str, password: str) -> str | None:
    """Why ``password`` is refused for ``username``; ``None`` when the policy accepts it."""
    if len(password) < MIN_PASSWORD:
        return f"A password has at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters."
    if normalize_username(password) == normalize_username(username):
        return "The password must not be the username."
    return None
