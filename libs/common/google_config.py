"""Google Workspace settings: the ``[google]`` table and a mailbox's service account key.

Plain data and checks only (no Google library): the Gmail adapter (``libs/common/gmail``)
reads them. The key file holds a private key, so its text is a ``SecretStr`` as soon as it is
read and is never logged; only the service account's address and key id are ever shown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from libs.common.errors import ConfigError

#: What a service account key file must hold for google-auth to sign assertions with it.
KEY_FIELDS = ("client_email", "private_key", "private_key_id", "token_uri")


class GoogleConfig(BaseModel):
    """Where the Gmail API, the Directory API and Google's token endpoint live (Google's or
    the simulator's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The API root: ``/gmail/v1``, ``/upload/gmail/v1`` and ``/batch/gmail/v1`` are under it.
    api_url: str = "https://gmail.googleapis.com"
    #: The Admin SDK's root (``/admin/directory/v1`` under it): requester lookups.
    directory_url: str = "https://admin.googleapis.com"
    #: Overrides the key file's ``token_uri`` (the simulator's key already names its own).
    token_uri: str | None = None
    #: CA bundle for the API and the token endpoint; ``None`` uses the system store.
    ca_bundle: Path | None = None
    timeout_s: float = 30.0
    #: Quota units spent per mailbox per second. Gmail allows 250; we stay below.
    units_per_s: int = Field(default=200, ge=1, le=250)
    #: Requests in flight per mailbox.
    max_concurrency: int = Field(default=4, ge=1, le=10)
    #: How long one call may keep retrying throttled or unavailable answers.
    max_retry_s: float = Field(default=120.0, gt=0)

    @field_validator("api_url", "directory_url", "token_uri")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return None if value is None else value.rstrip("/")


def parse_service_account_key(text: str) -> dict[str, Any]:
    """The key file's fields; :class:`ConfigError` (naming no secret) when it is not a
    service account key as the Cloud console downloads it."""
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConfigError(
            "the service account key is not a Google service account key (JSON)",
            hint="download a JSON key in Cloud console → IAM & Admin → Service accounts → "
            "Keys → Add key, and give that file",
        )
    missing = [k for k in KEY_FIELDS if not info.get(k)]
    if missing:
        raise ConfigError(
            f"the service account key lacks {', '.join(missing)}",
            hint="download the key again (JSON) in Cloud console → Service accounts → Keys",
        )
    return info


def check_google_mailbox(fields: dict[str, Any]) -> None:
    """Raise ``ValueError`` (pydantic's validator words) unless a Google mailbox has exactly
    one service account key and none of the Microsoft credentials."""
    microsoft = [k for k in fields if not k.startswith("service_account") and fields[k]]
    if microsoft:
        raise ValueError(f"a google mailbox takes no {microsoft[0]} (that is Microsoft's)")
    given = [k for k in ("service_account_key", "service_account_key_file") if fields.get(k)]
    if len(given) != 1:
        raise ValueError(
            "a google mailbox needs exactly one of service_account_key_file or service_account_key"
        )


def read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"service_account_key_file: cannot read {path} ({exc.strerror})",
            hint="give the path of the JSON key downloaded from the Cloud console",
        ) from None


def service_account_info(key: SecretStr | None, key_file: Path | None) -> dict[str, Any]:
    """The key's fields, from its text or else its file."""
    if key is not None:
        return parse_service_account_key(key.get_secret_value())
    if key_file is None:
        raise ConfigError(
            "no service account key",
            hint="set service_account_key_file for the google mailbox (docs/google.md)",
        )
    return parse_service_account_key(read_key_file(key_file))
