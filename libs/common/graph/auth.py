"""OAuth 2.0 client credentials through msal: one app object per (authority, client, credential).

msal keeps its token cache inside the ``ConfidentialClientApplication``, so every GraphMail of
one app registration must share the same object: the registry below hands it out. Building the
app fetches the authority's OpenID configuration, so it happens lazily at the first token,
never at import or construction time.

msal talks HTTP through ``requests``, where ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` silently
win over ``Session.verify``. With a configured CA bundle msal gets a session that pins it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from libs.common.graph.errors import GraphAuthError, GraphError, GraphUnavailable
from libs.common.metrics import GRAPH_TOKEN_FAILURES
from libs.common.redact import redact_url
from libs.common.settings import GraphConfig, MailboxConfig

GRAPH_SCOPES = ["https://graph.microsoft.com/.default"]

_MICROSOFT_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.partner")

# AADSTS code -> (short code, the Entra step to check). Entra puts these in "error_codes".
_AADSTS: dict[int, tuple[str, str]] = {
    7000215: (
        "invalid_client_secret",
        "the client secret is wrong: in Entra > App registrations > Certificates & secrets, "
        "copy the secret's Value (not its Secret ID) into client_secret",
    ),
    7000222: (
        "client_secret_expired",
        "the client secret has expired: create a new one in Entra > App registrations > "
        "Certificates & secrets and update client_secret",
    ),
    700016: (
        "unknown_client",
        "no app with this client_id in the tenant: check client_id (Application (client) ID) "
        "and tenant_id in Entra > App registrations > Overview",
    ),
    90002: (
        "unknown_tenant",
        "the tenant does not exist: check tenant_id (Directory (tenant) ID) in Entra > Overview",
    ),
    65001: (
        "consent_required",
        "the app has no admin consent: Entra > App registrations > API permissions > "
        "Grant admin consent",
    ),
    700027: (
        "invalid_certificate",
        "the certificate is not registered: upload the public certificate under Entra > "
        "App registrations > Certificates & secrets",
    ),
    700024: (
        "invalid_client_assertion",
        "the certificate assertion was rejected: check the machine clock and the certificate",
    ),
    7000112: (
        "app_disabled",
        "the app registration or its service principal is disabled: enable it in Entra",
    ),
}
_RETRYABLE_OAUTH_ERRORS = {"temporarily_unavailable", "server_error", "slow_down"}


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def authority_url(graph: GraphConfig, box: MailboxConfig) -> str:
    return f"{graph.authority_host}/{box.tenant_id}"


def _credential(box: MailboxConfig) -> tuple[str | dict[str, str], str]:
    """msal's ``client_credential`` and a digest that identifies it without revealing it."""
    secret = box.secret()
    if secret is not None:
        value = secret.get_secret_value()
        return value, _digest(value.encode())
    if box.certificate_pem is not None and box.certificate_key is not None:
        key, cert = box.certificate_key.get_secret_value(), box.certificate_pem
    else:
        assert box.certificate_file is not None and box.certificate_key_file is not None
        key = Path(box.certificate_key_file).read_text(encoding="utf-8")
        cert = Path(box.certificate_file).read_text(encoding="utf-8")
    # msal (>= 1.35) derives the SHA-256 thumbprint from the public certificate.
    return {"private_key": key, "public_certificate": cert}, _digest(key.encode(), cert.encode())


def _requests_session(ca_bundle: Path, timeout_s: float) -> Any:
    import requests

    class PinnedCASession(requests.Session):
        """A session whose CA bundle the environment cannot override."""

        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            settings = super().merge_environment_settings(*args, **kwargs)
            settings["verify"] = str(ca_bundle)
            return settings

        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout_s)
            return super().request(*args, **kwargs)

    session = PinnedCASession()
    session.verify = str(ca_bundle)
    return session


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apps: dict[tuple[str, str, str, str], Any] = {}

    def app(self, graph: GraphConfig, box: MailboxConfig) -> Any:
        credential, digest = _credential(box)
        authority = authority_url(graph, box)
        key = (authority, box.client_id, digest, str(graph.ca_bundle or ""))
        with self._lock:
            app = self._apps.get(key)
            if app is None:
                app = _build_app(graph, box, credential, authority)
                self._apps[key] = app
            return app

    def clear(self) -> None:
        with self._lock:
            self._apps.clear()


def _build_app(
    graph: GraphConfig, box: MailboxConfig, credential: str | dict[str, str], authority: str
) -> Any:
    import msal
    import requests

    host = authority.split("/")[2].lower()
    kwargs: dict[str, Any] = {
        "client_credential": credential,
        "authority": authority,
        "timeout": graph.timeout_s,
        "instance_discovery": host.startswith(_MICROSOFT_HOSTS),
    }
    if graph.ca_bundle is not None:
        kwargs["http_client"] = _requests_session(graph.ca_bundle, graph.timeout_s)
    try:
        return msal.ConfidentialClientApplication(box.client_id, **kwargs)
    except requests.RequestException as exc:
        raise GraphUnavailable(
            f"token authority {authority} unreachable: {type(exc).__name__}",
            code="authority_unreachable",
            hint="check authority_host, the network and the CA bundle",
        ) from None
    except ValueError as exc:
        # msal raises ValueError when the authority's OpenID configuration is missing,
        # which is what an unknown tenant looks like.
        secret = box.secret()
        detail = redact_url(str(exc)[:200])
        if secret is not None and secret.get_secret_value():
            detail = detail.replace(secret.get_secret_value(), "**********")
        raise GraphAuthError(
            f"token authority {authority} rejected the tenant: {detail}",
            code="unknown_tenant",
            hint=_AADSTS[90002][1] + "; and authority_host in [graph]",
        ) from None


REGISTRY = _Registry()


def error_from_token_result(result: dict[str, Any], *, secret: str | None) -> GraphError:
    """The typed error for a failed ``acquire_token_for_client`` result."""
    oauth_error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").split("\r\n")[0][:300]
    if secret:
        description = description.replace(secret, "***")
    codes = [c for c in result.get("error_codes") or [] if isinstance(c, int)]
    for c in codes:
        if c in _AADSTS:
            short, hint = _AADSTS[c]
            return GraphAuthError(
                f"token request failed: AADSTS{c} {short}: {description}",
                status=400,
                code=f"AADSTS{c}",
                hint=hint,
            )
    if oauth_error in _RETRYABLE_OAUTH_ERRORS:
        return GraphUnavailable(
            f"token request failed: {oauth_error}: {description}",
            code=oauth_error,
            hint="the token authority is unavailable; retried later",
        )
    return GraphAuthError(
        f"token request failed: {oauth_error}: {description}",
        code=f"AADSTS{codes[0]}" if codes else oauth_error,
        hint="check tenant_id, client_id and the credential in Entra > App registrations",
    )


class TokenSource:
    """Access tokens for one mailbox's app registration, from msal's shared cache."""

    def __init__(self, graph: GraphConfig, box: MailboxConfig) -> None:
        self._graph = graph
        self._box = box
        self._lock = threading.Lock()
        self._app: Any = None

    def __repr__(self) -> str:
        return f"TokenSource(authority={authority_url(self._graph, self._box)!r})"

    def _msal_app(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = REGISTRY.app(self._graph, self._box)
            return self._app

    def token(self) -> str:
        """A valid access token; msal returns the cached one until shortly before expiry."""
        import requests

        app = self._msal_app()
        try:
            result = app.acquire_token_for_client(scopes=GRAPH_SCOPES)
        except requests.RequestException as exc:
            GRAPH_TOKEN_FAILURES.labels(self._box.address, "authority_unreachable").inc()
            raise GraphUnavailable(
                f"token request failed: {type(exc).__name__}",
                code="authority_unreachable",
                hint="check authority_host, the network and the CA bundle",
            ) from None
        if isinstance(result, dict) and "access_token" in result:
            return str(result["access_token"])
        secret = self._box.secret()
        error = error_from_token_result(
            result or {}, secret=secret.get_secret_value() if secret else None
        )
        GRAPH_TOKEN_FAILURES.labels(self._box.address, error.code).inc()
        raise error

    def invalidate(self) -> None:
        """Drop cached tokens of this app so the next :meth:`token` asks the authority."""
        self._msal_app().remove_tokens_for_client()
