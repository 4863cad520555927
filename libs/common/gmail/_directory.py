"""Requester lookups on Google Workspace: the Admin SDK Directory API's ``users.get`` with
``viewType=domain_public`` (any user of the domain may read it; no admin needed), as the
service account acting for the helpdesk mailbox with ``admin.directory.user.readonly``.

That scope is a token of its own: a Workspace that did not delegate it loses the lookups (a
permanent error with the Admin console fix, which the ticketer treats as "cannot enrich" and
pauses on), never the mail. Nothing is asked of Google until the first lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from libs.common.gmail._auth import DIRECTORY_READONLY
from libs.common.gmail._base import GmailBase
from libs.common.gmail._errors import DELEGATION
from libs.common.gmail._http import GmailHttp
from libs.common.mail.errors import MailAuthError, MailError, MailNotFound, MailPermanentError
from libs.common.mail.models import DirectoryUser

USERS = "/admin/directory/v1/users/"
#: The token endpoint's refusal of an undelegated scope, and the API's of a token without it.
_NOT_DELEGATED = frozenset({"unauthorized_client", "insufficientPermissions"})


def not_delegated_hint(client_id: str) -> str:
    return (
        f"{DELEGATION}delegation: add the scope {DIRECTORY_READONLY} to client id {client_id} "
        "(requesters are not enriched until then; docs/google.md)"
    )


def _not_delegated(cause: MailError, client_id: str) -> MailAuthError:
    err = MailAuthError(
        f"directory lookups refused: {cause.message}",
        code="directory_not_delegated",
        hint=not_delegated_hint(client_id),
    )
    err.status, err.about_mailbox = cause.status, True
    return err


def _user_not_found(user: str, cause: MailError) -> MailNotFound:
    # A 403 "Not Authorized to access this resource/api" is Google's answer for another
    # organisation's address: not ours to read, so no such user here.
    err = MailNotFound(
        f"no user {user} in the Workspace directory ({cause.status} {cause.code})",
        code="user_not_found",
        hint="the address is not a user of the Workspace",
    )
    err.status = 404
    return err


def _api_off(cause: MailError) -> MailPermanentError:
    err = MailPermanentError(
        cause.message,
        code=cause.code,
        # The answer's own hint names the project; this one when Google named none.
        hint=cause.hint
        or "enable the Admin SDK API in Cloud console → APIs & Services for the service "
        "account's project",
    )
    err.status = cause.status
    return err


def to_user(data: Mapping[str, Any]) -> DirectoryUser:
    """The neutral user of a ``users.get`` resource: its primary address is both the mail
    and the sign-in name; title and department come from the primary organisation."""
    name = data.get("name") if isinstance(data.get("name"), Mapping) else {}
    orgs = [o for o in data.get("organizations") or [] if isinstance(o, Mapping)]
    org = next((o for o in orgs if o.get("primary")), orgs[0] if orgs else {})
    email = _text(data.get("primaryEmail"))
    return DirectoryUser(
        id=str(data.get("id") or ""),
        display_name=_text(name.get("fullName")) if name else None,
        mail=email,
        user_principal_name=email,
        job_title=_text(org.get("title")),
        department=_text(org.get("department")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class GmailDirectory(GmailBase):
    """``get_user`` of the mail port on the Directory API."""

    _directory: GmailHttp | None = None

    def _directory_http(self) -> GmailHttp:
        # Made at the first lookup: a fetcher or sender never asks for this token.
        with self._lock:
            if self._directory is None:
                self._directory = self._http_for(
                    self.address, [DIRECTORY_READONLY], api_url=self._google.directory_url
                )
            return self._directory

    def get_user(self, user: str) -> DirectoryUser:
        """The user's public profile; :class:`MailNotFound` when the Workspace has no such
        user (or it is another organisation's)."""
        http = self._directory_http()
        try:
            answer = http.request(
                "GET",
                USERS + quote(user, safe="@"),
                what="directory users.get",
                units=1,
                params={"viewType": "domain_public"},
            )
        except MailNotFound as exc:
            raise _user_not_found(user, exc) from None
        except MailPermanentError as exc:
            raise self._refused(user, exc) from None
        data = answer.json()
        return to_user(data if isinstance(data, Mapping) else {})

    def _refused(self, user: str, exc: MailPermanentError) -> MailPermanentError:
        """The error to raise for a refused lookup, in the terms of its fix."""
        if exc.code in _NOT_DELEGATED:
            client_id = self._info.get("client_id") or self._info.get("client_email")
            return _not_delegated(exc, str(client_id))
        if exc.status == 403 and exc.code == "forbidden":
            return _user_not_found(user, exc)
        if exc.code == "accessNotConfigured":
            return _api_off(exc)
        return exc
