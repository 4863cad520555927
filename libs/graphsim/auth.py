"""The Entra side: OIDC discovery, the client-credentials token endpoint, token checks.

Access tokens are JWTs signed by the simulator (HS256 with a per-process key): Graph-like
claims (``aud``, ``tid``, ``appid``, ``roles``, ``exp``), checked on every Graph request.
Client assertions (certificate credentials) are verified against the registered certificate,
found by its ``x5t#S256`` or ``x5t`` thumbprint, as Entra does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from libs.graphsim.directory import App
from libs.graphsim.errors import EntraError, GraphHTTPError
from libs.graphsim.world import World

GRAPH_RESOURCE = "https://graph.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64d(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openid_configuration(authority_host: str, tenant: str) -> dict[str, Any]:
    base = f"{authority_host}/{tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{authority_host}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{authority_host}/{tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }


def unknown_tenant(tenant: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud.",
    )


def _check_form(world: World, tenant: str, form: dict[str, str]) -> App:
    if not world.tenant_known(tenant):
        raise unknown_tenant(tenant)
    if form.get("grant_type") != "client_credentials":
        raise EntraError(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type. Only client_credentials is served.",
        )
    client_id = form.get("client_id", "")
    app = world.app(tenant, client_id)
    if app is None:
        raise EntraError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant}'. This can happen if the application has not been installed by the "
            "administrator of the tenant. You may have sent your request to the wrong tenant.",
        )
    scope = form.get("scope", "")
    if not any(s.endswith("/.default") for s in scope.split()):
        raise EntraError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier.",
        )
    return app


def issue(world: World, tenant: str, form: dict[str, str], token_endpoint: str) -> dict:
    """The token response for a client-credentials request, or an :class:`EntraError`."""
    app = _check_form(world, tenant, form)
    _check_credential(app, form, token_endpoint)
    ttl = world.faults.token_ttl_s
    return {
        "token_type": "Bearer",
        "expires_in": ttl,
        "ext_expires_in": ttl,
        "access_token": make_token(world, app, ttl),
    }


def _check_credential(app: App, form: dict[str, str], token_endpoint: str) -> None:
    """The app proves who it is with a signed assertion or with its client secret."""
    secret = form.get("client_secret")
    assertion = form.get("client_assertion")
    if assertion is not None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise EntraError(
                400, "invalid_request", 50027, "Invalid client_assertion_type parameter."
            )
        verify_assertion(app, assertion, token_endpoint)
    elif secret is not None:
        _check_secret(app, secret)
    else:
        raise EntraError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )


def _check_secret(app: App, secret: str) -> None:
    if app.client_secret is None or not hmac.compare_digest(secret, app.client_secret):
        raise EntraError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request "
            "is the client secret value, not the client secret ID, for a secret added to "
            f"app '{app.client_id}'.",
        )
    if app.secret_expires_at is not None and app.secret_expires_at <= time.time():
        raise EntraError(
            401,
            "invalid_client",
            7000222,
            f"The provided client secret keys for app '{app.client_id}' are expired. Visit "
            "the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, "
            "or consider using certificate credentials for added security: "
            "https://aka.ms/certCreds.",
        )


def _thumbprints(certificate_pem: str) -> tuple[x509.Certificate, str, str]:
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    sha1 = _b64e(cert.fingerprint(hashes.SHA1()))  # noqa: S303 (x5t is SHA-1 by definition)
    return cert, _b64e(cert.fingerprint(hashes.SHA256())), sha1


def _assertion_failed(description: str, code: int = 700027) -> EntraError:
    return EntraError(401, "invalid_client", code, description)


def verify_assertion(app: App, assertion: str, audience: str) -> None:
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64d(head_b64))
        claims = json.loads(_b64d(claims_b64))
        signature = _b64d(sig_b64)
    except ValueError:
        raise _assertion_failed("Client assertion is not a well-formed JWT.", 50012) from None
    if app.certificate_pem is None:
        raise _assertion_failed(f"No certificate is registered for app '{app.client_id}'.")
    cert, sha256, sha1 = _thumbprints(app.certificate_pem)
    # Compare unpadded: msal pads its base64url thumbprints, RFC 7515 says not to.
    given = {str(header.get("x5t#S256", "")).rstrip("="), str(header.get("x5t", "")).rstrip("=")}
    if sha256 not in given and sha1 not in given:
        raise _assertion_failed("Client assertion failed signature validation: key not found.")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _assertion_failed("Only RSA certificates are supported.")
    alg = header.get("alg")
    pad: padding.AsymmetricPadding
    if alg == "PS256":
        pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    elif alg == "RS256":
        pad = padding.PKCS1v15()
    else:
        raise _assertion_failed(f"Unsupported client assertion algorithm {alg!r}.")
    try:
        key.verify(signature, f"{head_b64}.{claims_b64}".encode(), pad, hashes.SHA256())
    except InvalidSignature:
        raise _assertion_failed("Client assertion failed signature validation.") from None
    now = time.time()
    if float(claims.get("exp", 0)) < now or float(claims.get("nbf", 0)) > now + 300:
        raise _assertion_failed("Client assertion is not within its valid time range.", 700024)
    if claims.get("aud") != audience:
        raise _assertion_failed(
            f"Client assertion audience claim does not match. Expected: {audience}", 70021
        )
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        raise _assertion_failed("Client assertion contains an invalid issuer or subject.", 700021)


def make_token(world: World, app: App, ttl: int) -> str:
    now = int(time.time())
    claims = {
        "aud": GRAPH_RESOURCE,
        "iss": f"https://sts.windows.net/{app.tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "appid": app.client_id,
        "tid": app.tenant_id,
        "oid": app.object_id,
        "roles": sorted(app.permissions),
        "uti": uuid.uuid4().hex,
    }
    head = _b64e(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = _b64e(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(world.token_key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64e(sig)}"


def _unauthenticated(message: str) -> GraphHTTPError:
    return GraphHTTPError(
        401,
        "InvalidAuthenticationToken",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
    )


def authenticate(world: World, authorization: str | None) -> App:
    """The app behind a Graph request's bearer token; 401 when missing, bad or expired."""
    if not authorization:
        raise _unauthenticated("Access token is empty.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        raise _unauthenticated("IDX14100: JWT is not well formed.")
    head, body, sig = token.split(".")
    expected = hmac.new(world.token_key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_b64d(sig), expected)
        claims = json.loads(_b64d(body)) if valid else {}
    except ValueError:
        valid = False
    if not valid:
        raise _unauthenticated("Access token validation failure. Invalid signature.")
    if claims["exp"] <= time.time():
        raise _unauthenticated("Lifetime validation failed, the token is expired.")
    app = world.app(claims["tid"], claims["appid"])
    if app is None:
        raise _unauthenticated("Access token validation failure. Unknown application.")
    return app
