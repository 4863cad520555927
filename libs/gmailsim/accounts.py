"""Service accounts, their keys and the domain-wide delegation an admin grants them.

A key file is what the Cloud console hands out (``type``, ``project_id``, ``private_key_id``,
``private_key``, ``client_email``, ``client_id``, ``token_uri`` …); the simulator keeps only
the public half of each key to check the signed JWTs google-auth sends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT_ID = "mailpipe-sim"
#: The Cloud project's number, as Google names it in "API not enabled" answers.
PROJECT_NUMBER = "512340987123"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
FULL_MAIL = "https://mail.google.com/"
MODIFY = SCOPE_PREFIX + "gmail.modify"
SEND = SCOPE_PREFIX + "gmail.send"
SETTINGS_BASIC = SCOPE_PREFIX + "gmail.settings.basic"
SETTINGS_SHARING = SCOPE_PREFIX + "gmail.settings.sharing"
DIRECTORY_READONLY = SCOPE_PREFIX + "admin.directory.user.readonly"
#: The scopes any one of which lets ``users.get`` of the Directory API read a user.
DIRECTORY_SCOPES = frozenset({DIRECTORY_READONLY, SCOPE_PREFIX + "admin.directory.user"})
#: What the default service account is delegated: read and remove, send, send-as aliases,
#: and reading the directory's users.
DEFAULT_SCOPES = (MODIFY, SEND, SETTINGS_BASIC, SETTINGS_SHARING, DIRECTORY_READONLY)


@dataclass
class ServiceAccount:
    client_id: str
    client_email: str
    #: private_key_id → public key; a deleted key is gone from here.
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)


def new_account(name: str) -> ServiceAccount:
    # Google's client ids of service accounts are 21 digits.
    client_id = "1" + "".join(secrets.choice("0123456789") for _ in range(20))
    return ServiceAccount(client_id, f"{name}@{PROJECT_ID}.iam.gserviceaccount.com")


def new_key(account: ServiceAccount, token_uri: str) -> dict[str, Any]:
    """A new RSA key for the account, as the key file JSON the Cloud console downloads."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(20)
    account.keys[key_id] = private.public_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": account.client_email,
        "client_id": account.client_id,
        "auth_uri": token_uri.rsplit("/", 1)[0] + "/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "",
        "universe_domain": "googleapis.com",
    }


@dataclass
class AccessToken:
    user: str
    scopes: frozenset[str]
    expires_at: float
    client_id: str
