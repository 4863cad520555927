"""Addresses as they go into MIME headers, and the recipient lists a job really sends to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from libs.common.contracts import Address, OutboundEmail


def ascii_address(address: str) -> str | None:
    """``local@domain`` in ASCII (the domain IDNA-encoded), or ``None`` when impossible.

    A non-ASCII local part needs SMTPUTF8 end to end, which Graph's MIME send does not
    promise, so such an address cannot be sent and the job is rejected instead.
    """
    local, _, domain = address.rpartition("@")
    if not local or not domain or not local.isascii():
        return None
    if domain.isascii():
        return f"{local}@{domain.lower()}"
    try:
        return f"{local}@{domain.encode('idna').decode('ascii').lower()}"
    except UnicodeError:
        return None


@dataclass(frozen=True)
class Recipients:
    """To, Cc and Bcc with every address once (first list wins: to, then cc, then bcc)."""

    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to or self.cc or self.bcc)

    def all(self) -> tuple[Address, ...]:
        return self.to + self.cc + self.bcc


def unique_recipients(job: OutboundEmail, exclude: Iterable[str] = ()) -> Recipients:
    """The job's recipients without repeats and without ``exclude`` (the service mailbox).

    Sending to the service mailbox itself would feed our own mail back to the ticketer (a
    reply-all usually includes it), so it is dropped. Comparison ignores case.
    """
    seen = {a.lower() for a in exclude}
    lists: list[tuple[Address, ...]] = []
    for group in (job.to, job.cc, job.bcc):
        kept: list[Address] = []
        for addr in group:
            key = addr.address.lower()
            if key not in seen:
                seen.add(key)
                kept.append(addr)
        lists.append(tuple(kept))
    return Recipients(*lists)
