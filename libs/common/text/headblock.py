"""The header block of received mail, mended before the email package reads it.

The email package's parser ends the header block at the first line that is not a header, and
reads everything from there as the body: a ``Subject : x`` (a blank before the colon, as some
old mailers write), a bare CR inside a value (which it takes for a line break), and everything
after them, is lost as headers. :func:`mend_head` rewrites just those lines, so a mail keeps
its subject, sender and recipients; nothing after the header block is touched.
"""

from __future__ import annotations

import re

#: A field name, blanks, then the colon: ``Subject : x``.
_BLANK_BEFORE_COLON = re.compile(rb"^([!-9;-~]+)[ \t]+:")
_FIELD = re.compile(rb"^[!-9;-~]+:")
_LINE = re.compile(rb"\r\n|\n")
#: The end of the header block: the first empty line (or a mail that starts with one).
_HEAD_END = re.compile(rb"(?:^|\n)\r?\n")


def mend_head(raw: bytes) -> bytes:
    """``raw`` with its header block readable: a blank before a field's colon removed, NULs
    dropped, a bare CR read as a blank, blank-only fold lines (obsolete syntax) dropped, and a
    blank line put in where the body starts without one. Unchanged when nothing needs it."""
    if b"\n" not in raw:
        # Bare CRs end its lines (classic Mac OS): the parser reads them as line breaks, and
        # read here as blanks they would run every header into one.
        return raw
    found = _HEAD_END.search(raw)
    end = found.start() if found else len(raw)
    if raw[end - 1 : end] == b"\r":  # the last header line's CRLF stays with the break
        end -= 1
    head, rest = raw[:end], raw[end:]
    eol = b"\r\n" if b"\r\n" in head else b"\n"
    lines = _LINE.split(head)
    out: list[bytes] = []
    for n, line in enumerate(lines):
        if n == 0 and line.startswith(b"From "):  # an mbox separator: the parser's own
            out.append(line)
            continue
        mended = line.replace(b"\x00", b"").replace(b"\r", b" ")
        if mended[:1] in (b" ", b"\t") and out:
            if mended.strip():  # a fold; one of blanks only carries nothing
                out.append(mended)
            continue
        mended = _BLANK_BEFORE_COLON.sub(rb"\1:", mended, count=1)
        if not _FIELD.match(mended):
            if not out:  # no header at all: no message to mend (the parser reads it as body)
                return raw
            # The body starts here, without the empty line before it.
            return eol.join(out) + eol + eol + eol.join(lines[n:]) + rest
        out.append(mended)
    mended_head = eol.join(out)
    return raw if mended_head == head else mended_head + rest
