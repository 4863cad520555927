"""Splitting a multipart body into its parts byte for byte (the upload's RFC 822 must reach
the mailbox unchanged, which a MIME parser's re-serialisation does not promise)."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)


def boundary_of(content_type: str) -> str | None:
    found = _BOUNDARY.search(content_type)
    return found.group(1) if found else None


def parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in re.split(rb"\r?\n", block):
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body) at the first blank line."""
    found = re.search(rb"\r?\n\r?\n", data)
    if found is None:
        return data, b""
    return data[: found.start()], data[found.end() :]


def parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts between ``--boundary`` lines: (lower-cased headers, content)."""
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    out = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        # the line break after the delimiter, and the one before the next, belong to it
        chunk = re.sub(rb"^[ \t]*\r?\n", b"", chunk, count=1)
        chunk = re.sub(rb"\r?\n$", b"", chunk, count=1)
        head, content = split_head(chunk)
        out.append((parse_headers(head), content))
    return out
