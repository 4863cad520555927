"""Tokens for a service account acting as one user (domain-wide delegation), by google-auth,
over httpx: google-auth signs the assertion and reads the answer, httpx carries it (so the
CA bundle is ours and no environment variable overrides it)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import service_account

from libs.common.gmail._errors import token_error
from libs.common.mail.errors import MailUnavailable

SCOPE = "https://www.googleapis.com/auth/"
MODIFY, SEND = SCOPE + "gmail.modify", SCOPE + "gmail.send"
SETTINGS_BASIC = SCOPE + "gmail.settings.basic"
#: Reading the Workspace directory's users (requester lookups), a delegation of its own.
DIRECTORY_READONLY = SCOPE + "admin.directory.user.readonly"


class _Response(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(transport.Request):
    """google-auth's transport interface on an httpx client."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> transport.Response:
        try:
            response = self._client.request(
                method, url, content=body, headers=headers, timeout=timeout or 30.0
            )
        except httpx.HTTPError as exc:
            raise google_exceptions.TransportError(type(exc).__name__) from exc
        return _Response(response)


class TokenSource:
    """Access tokens of the service account acting as ``user``, renewed before expiry."""

    def __init__(
        self,
        info: Mapping[str, Any],
        user: str,
        scopes: Sequence[str],
        client: httpx.Client,
        token_uri: str | None = None,
    ) -> None:
        info = dict(info, token_uri=token_uri or info["token_uri"])
        self.user = user
        self.client_id = str(info.get("client_id") or info["client_email"])
        creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
        self._creds = creds.with_subject(user)
        self._request = HttpxRequest(client)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenSource(user={self.user!r}, client_id={self.client_id!r})"

    def token(self) -> str:
        with self._lock:
            if not self._creds.valid:
                self._refresh()
            return str(self._creds.token)

    def invalidate(self) -> None:
        with self._lock:
            self._creds.token = None

    def _refresh(self) -> None:
        try:
            self._creds.refresh(self._request)
        except google_exceptions.RefreshError as exc:
            data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
            if getattr(exc, "retryable", False) or not data:
                raise MailUnavailable(
                    f"google token for {self.user}: the token endpoint failed",
                    code="token_unavailable",
                ) from None
            raise token_error(
                str(data.get("error", "")),
                str(data.get("error_description", "")),
                user=self.user,
                client_id=self.client_id,
            ) from None
        except google_exceptions.TransportError:
            raise MailUnavailable(
                f"google token for {self.user}: no answer from the token endpoint",
                code="connection_error",
            ) from None
