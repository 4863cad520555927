"""The OAuth token endpoint for service accounts (JWT bearer grant, RFC 7523) and the check
of the access tokens it issues.

google-auth's ``service_account.Credentials(...).with_subject(user)`` posts
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>`` with ``iss`` the
client email, ``aud`` the token URI, ``scope`` space-separated and ``sub`` the user to act as.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from libs.gmailsim.accounts import AccessToken, ServiceAccount
from libs.gmailsim.errors import UNAUTHORIZED_CLIENT, GmailHTTPError, OAuthError, unauthenticated
from libs.gmailsim.world import World

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Google takes assertions of at most an hour (plus a little clock skew).
MAX_LIFETIME_S = 3600
#: google-auth always writes Google's token endpoint as ``aud``, whatever the key's token_uri;
#: Google takes that or the URI the assertion was posted to, and so does the simulator.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
SKEW_S = 300
_BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim."
)


def issue(world: World, form: dict[str, str], token_uri: str) -> dict[str, Any]:
    """Answer a token request, or raise the OAuthError Google would answer with."""
    if form.get("grant_type") != JWT_BEARER:
        raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}")
    assertion = form.get("assertion") or ""
    account, claims = _verify(world, assertion, token_uri)
    scopes = frozenset(str(claims.get("scope") or "").split())
    if not scopes:
        raise OAuthError("invalid_scope", "Empty or missing scope not allowed.")
    user = str(claims.get("sub") or "").lower()
    if user:
        _check_delegation(world, account, scopes, user)
    else:
        # No subject: the account acts as itself and gets a token; it has no Gmail mailbox,
        # so the API answers 400 failedPrecondition (a missing with_subject, at Google too).
        user = account.client_email.lower()
    ttl = world.faults.token_ttl_s
    token = "ya29.sim-" + secrets.token_urlsafe(32)
    world.tokens[token] = AccessToken(user, scopes, time.time() + ttl, account.client_id)
    world.stats.tokens_issued += 1
    return {"access_token": token, "expires_in": ttl, "token_type": "Bearer"}


def _check_delegation(
    world: World, account: ServiceAccount, scopes: frozenset[str], user: str
) -> None:
    """Domain-wide delegation: the client id granted every scope asked for, the user exists."""
    if not scopes <= world.delegation.get(account.client_id, frozenset()):
        raise OAuthError("unauthorized_client", UNAUTHORIZED_CLIENT, 401)
    if world.mailbox(user) is None:
        raise OAuthError("invalid_grant", "Invalid email or User ID")


def _verify(world: World, assertion: str, token_uri: str) -> tuple[ServiceAccount, dict]:
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "Invalid JWT: malformed assertion.") from None
    account = world.accounts.get(str(unverified.get("iss", "")).lower())
    if account is None:
        raise OAuthError("invalid_grant", "Invalid grant: account not found")
    public = account.keys.get(str(header.get("kid", "")))
    if public is None or header.get("alg") != "RS256":
        raise OAuthError("invalid_grant", "Invalid JWT Signature.")
    try:
        claims = jwt.decode(
            assertion,
            public,
            algorithms=["RS256"],
            audience=[token_uri, GOOGLE_TOKEN_AUDIENCE],
            options={"require": ["iat", "exp", "iss", "aud"], "verify_exp": False},
        )
    except jwt.InvalidSignatureError:
        raise OAuthError("invalid_grant", "Invalid JWT Signature.") from None
    except jwt.InvalidAudienceError:
        raise OAuthError("invalid_grant", "Invalid JWT: audience does not match.") from None
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", _BAD_TIMES) from None
    _check_times(claims)
    return account, claims


def _check_times(claims: dict) -> None:
    now = time.time()
    iat, exp = float(claims["iat"]), float(claims["exp"])
    if iat > now + SKEW_S or exp < now - SKEW_S or exp - iat > MAX_LIFETIME_S or exp <= iat:
        raise OAuthError("invalid_grant", _BAD_TIMES)


def authenticate(world: World, authorization: str | None) -> AccessToken:
    """The access token of a request; 401 in Google's shape when missing, unknown or expired."""
    scheme, _, value = (authorization or "").partition(" ")
    token = world.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if token is None or token.expires_at <= time.time():
        raise unauthenticated()
    return token


def delegation_denied(address: str) -> GmailHTTPError:
    return GmailHTTPError(403, "forbidden", f"Delegation denied for {address}")
