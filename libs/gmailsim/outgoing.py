"""Header edits on outgoing RFC 822 that leave the body byte for byte: Gmail adds a missing
Message-ID and Date, rewrites a From it does not allow, and drops Bcc from what recipients get.
"""

from __future__ import annotations

import email.utils
import re
import secrets

_SPLIT = re.compile(rb"\r?\n\r?\n")
_FOLDED = re.compile(rb"\r?\n(?=[ \t])")


def split(raw: bytes) -> tuple[list[bytes], bytes, bytes]:
    """(header lines with continuations joined, the blank line, the body)."""
    found = _SPLIT.search(raw)
    head, gap, body = (
        (raw, b"", b"")
        if found is None
        else (
            raw[: found.start()],
            found.group(0),
            raw[found.end() :],
        )
    )
    newline = b"\r\n" if b"\r\n" in (gap or head) else b"\n"
    lines = [ln for ln in re.split(rb"\r?\n(?![ \t])", head) if ln]
    return lines, gap or newline * 2, body


def _name(line: bytes) -> str:
    return line.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def value(lines: list[bytes], name: str) -> str:
    for line in lines:
        if _name(line) == name:
            text = _FOLDED.sub(b"", line.split(b":", 1)[1] if b":" in line else b"")
            return text.decode("utf-8", "replace").strip()
    return ""


def without(lines: list[bytes], name: str) -> list[bytes]:
    return [ln for ln in lines if _name(ln) != name]


def join(lines: list[bytes], gap: bytes, body: bytes) -> bytes:
    newline = b"\r\n" if gap.startswith(b"\r\n") else b"\n"
    return newline.join(lines) + gap + body


def addresses(lines: list[bytes], *names: str) -> list[str]:
    values = [value(lines, n) for n in names]
    return [a.lower() for _, a in email.utils.getaddresses([v for v in values if v]) if a]


def completed(lines: list[bytes], domain: str) -> list[bytes]:
    """Message-ID and Date added when missing, as Gmail does on send."""
    out = list(lines)
    if not value(out, "message-id"):
        out.append(f"Message-ID: <{secrets.token_hex(12)}@mail.{domain}>".encode())
    if not value(out, "date"):
        out.append(f"Date: {email.utils.formatdate(localtime=False)}".encode())
    return out


def with_from(lines: list[bytes], address: str) -> list[bytes]:
    """From rewritten to ``address``, the display name kept."""
    name, _ = email.utils.parseaddr(value(lines, "from"))
    header = f"From: {email.utils.formataddr((name, address))}".encode()
    return (
        [header if _name(ln) == "from" else ln for ln in lines]
        if value(lines, "from")
        else [
            header,
            *lines,
        ]
    )
