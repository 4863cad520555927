"""The integrations' secrets at rest: Fernet tokens tagged with the id of the key that made them.

A stored secret is ``f1:<key id>:<Fernet token>``. Fernet (from ``cryptography``) is AES-128-CBC
with an HMAC-SHA256 over the whole token, so a changed byte is refused, never decrypted into
something else. The key id is the first 8 hex digits of the SHA-256 of the key: it tells which
key a secret was saved with without revealing it, so that keys can be rotated. The key comes from
``MAILPIPE_SECRETS_KEY_FILE`` or ``MAILPIPE_SECRETS_KEY``: one key (urlsafe base64 of 32 bytes,
``mailpipe secrets new-key``), or several separated by commas or whitespace, the first saving new
secrets and every one reading the secrets it saved (docs/configuration.md, "The secrets key").

No message, ``repr`` or log line carries a key or a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from libs.common.errors import ConfigError
from libs.common.secret_url import read_secret_file

FORMAT = "f1"
#: What to do when the key is missing or is not the one the secrets were saved with.
KEY_HINT = "set MAILPIPE_SECRETS_KEY_FILE to the key the integrations were saved with"


class SecretsKeyError(ConfigError):
    """No key, a malformed key, or a key other than the one the stored secrets were saved with."""

    code = "secrets_key"


def new_key() -> str:
    """A fresh key, as ``MAILPIPE_SECRETS_KEY`` takes it."""
    return Fernet.generate_key().decode("ascii")


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _fernet(text: str, source: str) -> tuple[str, Fernet]:
    raw = text.encode("ascii", "replace")
    try:
        size = len(base64.urlsafe_b64decode(raw))
    except (binascii.Error, ValueError):
        size = -1
    if size != 32:
        raise SecretsKeyError(
            f"{source} is not a secrets key (urlsafe base64 of 32 bytes)",
            hint="make one with `mailpipe secrets new-key`; " + KEY_HINT,
        )
    return key_id(raw), Fernet(raw)


class SecretBox:
    """Encrypts with the first key, decrypts with whichever key the secret names."""

    def __init__(self, keys: str, source: str = "MAILPIPE_SECRETS_KEY") -> None:
        parts = keys.replace(",", " ").split()
        if not parts:
            raise SecretsKeyError(f"{source} is empty", hint=KEY_HINT)
        self._keys = dict(_fernet(part, source) for part in parts)
        self.key_id = next(iter(self._keys))

    def __repr__(self) -> str:
        return f"SecretBox(key ids {', '.join(self._keys)})"

    def seal(self, secret: SecretStr) -> str:
        token = self._keys[self.key_id].encrypt(secret.get_secret_value().encode("utf-8"))
        return f"{FORMAT}:{self.key_id}:{token.decode('ascii')}"

    def open(self, stored: str) -> SecretStr:
        """The secret; a key other than the one it was saved with, or a changed token, is a
        :class:`SecretsKeyError`."""
        form, kid, token = [*stored.split(":", 2), "", ""][:3]
        if form != FORMAT or not token:
            raise SecretsKeyError(
                "a stored secret is not in a form this mailpipe reads",
                hint="save the integration's secret again",
            )
        fernet = self._keys.get(kid)
        if fernet is None:
            raise SecretsKeyError(
                f"the integrations' secrets were saved with another key (key id {kid}, "
                f"this one is {self.key_id})",
                hint=KEY_HINT,
            )
        try:
            return SecretStr(fernet.decrypt(token.encode("ascii")).decode("utf-8"))
        except (InvalidToken, UnicodeError):
            raise SecretsKeyError(
                "a stored secret does not decrypt: it was changed in the database",
                hint="save the integration's secret again",
            ) from None


def load_box(key: SecretStr | None, key_file: Path | None) -> SecretBox:
    """The box of ``MAILPIPE_SECRETS_KEY_FILE`` (preferred) or ``MAILPIPE_SECRETS_KEY``."""
    if key_file is not None:
        text = read_secret_file(key_file, "MAILPIPE_SECRETS_KEY_FILE")
        return SecretBox(text, "MAILPIPE_SECRETS_KEY_FILE")
    if key is not None:
        return SecretBox(key.get_secret_value(), "MAILPIPE_SECRETS_KEY")
    raise SecretsKeyError(
        "no secrets key: MAILPIPE_SECRETS_KEY_FILE and MAILPIPE_SECRETS_KEY are unset",
        hint=KEY_HINT + " (`mailpipe secrets new-key` makes a first one)",
    )
