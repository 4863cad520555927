"""The subset of Gmail's search syntax (``q``) the simulator understands.

Terms are joined by AND: ``in:inbox``, ``in:trash``, ``in:sent``, ``in:spam``,
``in:anywhere``, ``label:NAME`` (a label's name or id; Gmail writes spaces in names as ``-``),
``is:unread``, ``is:starred``, each negatable with a leading ``-``, and ``rfc822msgid:ID``.
Anything else is a 400, so a client never silently gets a different answer than Gmail's.
"""

from __future__ import annotations

from collections.abc import Callable

from libs.gmailsim.errors import bad_request
from libs.gmailsim.state import Mailbox, Message

Test = Callable[[Message], bool]
_IN = {"inbox": "INBOX", "trash": "TRASH", "sent": "SENT", "spam": "SPAM", "draft": "DRAFT"}
_IS = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT"}


def _has(label_id: str) -> Test:
    return lambda m: label_id in m.label_ids


def _label_id(box: Mailbox, name: str) -> str:
    label = box.label(name) or box.label(name.replace("-", " "))
    if label is None:
        # Gmail matches nothing for an unknown label rather than failing.
        return "\0unknown"
    return label.id


def _term(box: Mailbox, term: str) -> tuple[Test | None, bool]:
    """The test of one term and whether it mentions trash or spam (which lifts the default
    exclusion of both)."""
    key, _, value = term.partition(":")
    key, value = key.lower(), value.strip('"')
    if key == "in" and value.lower() == "anywhere":
        return None, True
    if key == "in" and value.lower() in _IN:
        label = _IN[value.lower()]
        return _has(label), label in ("TRASH", "SPAM")
    if key == "is" and value.lower() in _IS:
        return _has(_IS[value.lower()]), False
    if key == "label" and value:
        label = _label_id(box, value)
        return _has(label), label in ("TRASH", "SPAM")
    if key == "rfc822msgid" and value:
        wanted = value.strip("<>")
        return (lambda m: m.parsed.message_id.strip("<>") == wanted), False
    raise bad_request(f"Invalid query: unsupported term '{term}' in the simulator.")


def _negated(test: Test) -> Test:
    return lambda m: not test(m)


def compile_query(box: Mailbox, q: str, include_spam_trash: bool) -> Test:
    tests: list[Test] = []
    lifted = include_spam_trash
    for term in q.split():
        negated = term.startswith("-")
        test, mentions = _term(box, term[1:] if negated else term)
        if test is None:
            lifted = True
            continue
        if negated:
            tests.append(_negated(test))
        else:
            tests.append(test)
            lifted = lifted or mentions
    if not lifted:
        tests.append(lambda m: not ({"TRASH", "SPAM"} & m.label_ids))
    return lambda m: all(t(m) for t in tests)
