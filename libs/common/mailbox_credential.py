"""The one credential of a mailbox's Entra app, checked for :class:`~libs.common.settings.
MailboxConfig`: a client secret (in the file or a file of its own), or a certificate (two files,
or, from the database of integrations, its PEM and private key held in memory)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from libs.common.errors import ConfigError
from libs.common.google_config import check_google_mailbox


class HasCredential(Protocol):
    @property
    def client_secret(self) -> SecretStr | None: ...
    @property
    def client_secret_file(self) -> Path | None: ...
    @property
    def certificate_file(self) -> Path | None: ...
    @property
    def certificate_key_file(self) -> Path | None: ...
    @property
    def certificate_pem(self) -> str | None: ...
    @property
    def certificate_key(self) -> SecretStr | None: ...


class HasProvider(HasCredential, Protocol):
    """A mailbox: its provider, Microsoft's ids, Google's key and how its secrets are read."""

    @property
    def provider(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def service_account_key(self) -> SecretStr | None: ...
    @property
    def service_account_key_file(self) -> Path | None: ...
    def secret(self) -> SecretStr | None: ...
    def service_account_info(self) -> dict[str, Any]: ...


def check_mailbox_credential(box: HasProvider) -> None:
    """Raise ``ValueError`` unless the mailbox has its provider's credential and no other."""
    if box.provider == "google":
        check_google_mailbox({k: getattr(box, k) for k in _ALL_CREDENTIAL_FIELDS})
        return
    if box.service_account_key or box.service_account_key_file:
        raise ValueError("a microsoft mailbox takes no service account key (Google's)")
    check_one_credential(box)


def read_credentials(path: Path, boxes: Sequence[HasProvider]) -> None:
    """Each mailbox's :func:`read_credential`, the error naming the file and the mailbox."""
    for i, box in enumerate(boxes):
        try:
            read_credential(box)
        except ConfigError as exc:
            raise ConfigError(f"{path}: mailboxes[{i}].{exc.message}", hint=exc.hint) from None


def read_credential(box: HasProvider) -> None:
    """Read the mailbox's secret files now, so that a missing one fails at start and not at
    the first token; :class:`ConfigError` naming the key."""
    box.secret()
    if box.provider == "google":
        box.service_account_info()
    for key in ("certificate_file", "certificate_key_file"):
        file = getattr(box, key)
        if file is not None and not Path(file).is_file():
            raise ConfigError(f"{key}: no such file {file}")


_ALL_CREDENTIAL_FIELDS = (
    "tenant_id",
    "client_id",
    "client_secret",
    "client_secret_file",
    "certificate_file",
    "certificate_key_file",
    "certificate_pem",
    "certificate_key",
    "service_account_key",
    "service_account_key_file",
)


def check_one_credential(box: HasCredential) -> None:
    """Raise ``ValueError`` (pydantic's validator words) unless exactly one credential is given."""
    has_secret = box.client_secret is not None or box.client_secret_file is not None
    files = box.certificate_file is not None or box.certificate_key_file is not None
    memory = box.certificate_pem is not None or box.certificate_key is not None
    if has_secret and (files or memory):
        raise ValueError("give a client secret or a certificate, not both")
    if box.client_secret is not None and box.client_secret_file is not None:
        raise ValueError("give client_secret or client_secret_file, not both")
    if files and memory:
        raise ValueError("give the certificate as files or as PEM text, not both")
    if files and (box.certificate_file is None or box.certificate_key_file is None):
        raise ValueError("a certificate needs both certificate_file and certificate_key_file")
    if memory and (box.certificate_pem is None or box.certificate_key is None):
        raise ValueError("a certificate needs both certificate_pem and certificate_key")
    if not has_secret and not files and not memory:
        raise ValueError(
            "no credential: set client_secret, client_secret_file, or "
            "certificate_file + certificate_key_file"
        )
