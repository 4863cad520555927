"""Which record an acknowledgement job names: the checks read it from the job ids in the
sender's log (the services never need it: the ticketer stores the record with the job)."""

from __future__ import annotations


def ack_record_id(job_id: str) -> int | None:
    """The record an acknowledgement's job id names (``ack:<mailbox>:<record>:<digest>``, or
    the older ``ack:<mailbox>:<record>``); ``None`` for any other job id."""
    parts = job_id.split(":")
    if len(parts) not in (3, 4) or parts[0] != "ack" or not parts[2].isdigit():
        return None
    return int(parts[2])
