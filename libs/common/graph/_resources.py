"""Graph's ``user`` and ``mailFolder`` resources: what the adapter asks of them (``$select``)
and the port's :class:`~libs.common.mail.models.DirectoryUser` and
:class:`~libs.common.mail.models.MailFolder` made of the answer.

Values stay as Graph gave them; a property of another shape than expected is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from libs.common.mail.models import DirectoryUser, MailFolder

#: What a user lookup asks for: every field of :class:`DirectoryUser` (all of them are on
#: Graph's user and on the simulator's).
USER_SELECT = ("id", "displayName", "mail", "userPrincipalName", "jobTitle", "department")

#: What a folder read asks for: every field of :class:`MailFolder`, nothing of its mail.
FOLDER_SELECT = ("id", "displayName", "totalItemCount")


def to_user(data: Mapping[str, Any]) -> DirectoryUser:
    """The neutral user of one Graph ``user`` resource (its :data:`USER_SELECT` properties)."""
    return DirectoryUser(
        id=str(data.get("id") or ""),
        display_name=_text(data.get("displayName")),
        mail=_text(data.get("mail")),
        user_principal_name=_text(data.get("userPrincipalName")),
        job_title=_text(data.get("jobTitle")),
        department=_text(data.get("department")),
    )


def to_folder(data: Mapping[str, Any]) -> MailFolder:
    """The neutral folder of one Graph ``mailFolder`` resource."""
    count = data.get("totalItemCount")
    return MailFolder(
        id=str(data.get("id") or ""),
        display_name=_text(data.get("displayName")),
        # bool is an int to Python, not a count to Graph.
        total_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
