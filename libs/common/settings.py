"""Settings: environment (``MAILPIPE_*``) plus the mailbox TOML file named by ``MAILPIPE_CONFIG``.

Environment settings use the prefix ``MAILPIPE_`` and the nested delimiter ``__``. Mailboxes
and the ``[graph]`` table come from TOML because each mailbox has many keys and secrets.

A bad configuration fails at start with one line naming the key and the file
(:class:`~libs.common.errors.ConfigError`). Secrets are ``SecretStr``: they never show in a
``repr``, a log line or an error message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common._toml_file import key_path, read_toml
from libs.common.after_processing import (
    AfterProcessing,
    AfterProcessingSetting,
    Delete,
    Move,
    action_of,
)
from libs.common.errors import ConfigError
from libs.common.google_config import GoogleConfig, service_account_info
from libs.common.graph_config import GraphConfig as GraphConfig
from libs.common.mailbox_credential import check_mailbox_credential, read_credentials
from libs.common.msgid import check_message_id_domain, default_message_id_domain
from libs.common.push_settings import PushConfig
from libs.common.record_token import DEFAULT_TOKEN_FORMAT, check_token_format
from libs.common.secret_url import read_password_file, read_secret_file, with_password

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def mailbox_address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value.lower()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailboxConfig(_Strict):
    """One service mailbox and the Entra app registration (Microsoft) or the service account
    with domain-wide delegation (Google) that reaches it."""

    address: str
    #: Which mail provider serves the mailbox (``libs/common/mail/providers.py``).
    provider: Literal["microsoft", "google"] = "microsoft"
    #: Microsoft's: required for a ``microsoft`` mailbox, refused for a ``google`` one.
    tenant_id: str = Field(default="", validate_default=True)
    client_id: str = Field(default="", validate_default=True)
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    certificate_key_file: Path | None = None
    #: The certificate as PEM text and its private key, in memory (integrations stored in the
    #: database: the key is decrypted when the configuration is built, never written to disk).
    certificate_pem: str | None = None
    certificate_key: SecretStr | None = None
    #: Google's: the service account key (JSON) as a file, or its text (from the database).
    service_account_key_file: Path | None = None
    service_account_key: SecretStr | None = None
    #: How a google mailbox sends as an agent: ``impersonate`` the agent's own mailbox (their
    #: Sent gets the copy) or through a verified ``alias`` of this mailbox (docs/google.md).
    google_send_as: Literal["impersonate", "alias"] = "impersonate"
    folder: str = "inbox"
    poll_interval_s: float = Field(default=30.0, gt=0)
    #: ``"delete"`` or ``"move:<folder>"`` in the TOML, parsed here once (after_processing.py).
    after_processing: AfterProcessingSetting = Delete()
    copy_to_folder: str | None = None
    quarantine_folder: str = "mailpipe-quarantine"
    send_as: tuple[str, ...] = ()
    send_as_fallback: Literal["reject", "mailbox"] = "reject"
    ignore_senders: tuple[str, ...] = ()
    auto_acknowledge: bool = False
    #: At most this many auto-acknowledgements per recipient per hour.
    auto_ack_per_hour: int = Field(default=3, ge=0)
    #: Acknowledge colleagues writing from the mailbox's own domain too (an internal IT
    #: helpdesk). Off by default: a forged From at our own domain would get an answer.
    auto_ack_own_domain: bool = False
    keep_raw_mime: bool = False
    #: Subject token that ties mail to a record; exactly one ``{id}``.
    record_token_format: str = DEFAULT_TOKEN_FORMAT
    #: Domain of the Message-IDs mailpipe makes (default ``mailpipe.<mailbox domain>``); the
    #: ticketer recognises its own mail by it.
    message_id_domain: str | None = None

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        return mailbox_address(value)

    @field_validator("tenant_id", "client_id")
    @classmethod
    def _microsoft_ids(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("provider", "microsoft") == "microsoft":
            raise ValueError("Field required (a microsoft mailbox needs it)")
        return value

    @field_validator("send_as")
    @classmethod
    def _agents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(mailbox_address(v) for v in value)

    @model_validator(mode="after")
    def _one_credential(self) -> MailboxConfig:
        check_mailbox_credential(self)
        return self

    @field_validator("record_token_format")
    @classmethod
    def _token_format(cls, value: str) -> str:
        try:
            return check_token_format(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None

    @field_validator("message_id_domain")
    @classmethod
    def _id_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_message_id_domain(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None

    @property
    def id_domain(self) -> str:
        """The domain of mailpipe's own Message-IDs for this mailbox."""
        return self.message_id_domain or default_message_id_domain(self.address)

    @property
    def after_processing_action(self) -> AfterProcessing:
        """What the fetcher does with processed mail (``copy_to_folder`` wins over a move).
        On Gmail a copy is a label on the same message, which trashing would hide with it:
        there the copy folder is a move into that label (out of the inbox, kept under it)."""
        if self.provider == "google" and self.copy_to_folder:
            return Move(self.copy_to_folder)
        return action_of(self.after_processing, self.copy_to_folder)

    def secret(self) -> SecretStr | None:
        """The client secret, read from its file when given as one."""
        if self.client_secret is not None:
            return self.client_secret
        if self.client_secret_file is not None:
            return SecretStr(read_secret_file(self.client_secret_file, "client_secret_file"))
        return None

    def service_account_info(self) -> dict[str, Any]:
        """A google mailbox's key file fields (read from its file when given as one)."""
        return service_account_info(self.service_account_key, self.service_account_key_file)


class MailpipeConfig(_Strict):
    """The contents of the TOML file named by ``MAILPIPE_CONFIG``."""

    graph: GraphConfig = GraphConfig()
    google: GoogleConfig = GoogleConfig()
    mailboxes: tuple[MailboxConfig, ...] = ()
    #: Change notifications (docs/push.md); none: every mailbox is polled only.
    push: PushConfig | None = None

    @model_validator(mode="after")
    def _unique(self) -> MailpipeConfig:
        seen: set[str] = set()
        for box in self.mailboxes:
            if box.address in seen:
                raise ValueError(f"mailbox {box.address} is configured twice")
            seen.add(box.address)
        return self

    def mailbox(self, address: str) -> MailboxConfig:
        address = address.lower()
        for box in self.mailboxes:
            if box.address == address:
                return box
        raise ConfigError(
            f"mailbox {address} is not configured",
            hint="add a [[mailboxes]] entry for it to the MAILPIPE_CONFIG file",
        )


class Settings(BaseSettings):
    """Process settings from the environment (``MAILPIPE_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="MAILPIPE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672//")
    namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")] = "mailpipe"
    database_url: SecretStr = SecretStr("sqlite:///mailpipe.db")
    blob_dir: Path = Path("blobs")
    #: Where attachments and raw MIME are kept: a folder (``blob_dir``, one disk for every
    #: service) or the database (no shared disk: the distributed mode).
    blob_store: Literal["folder", "database"] = "folder"
    #: The largest blob stored; a larger attachment quarantines its mail (docs/configuration.md).
    blob_max_bytes: int = Field(default=150 * 1024 * 1024, ge=1)
    #: ``mailpipe blobs gc`` keeps blobs put less than this long ago: mail still queued may
    #: name them before any record does.
    blob_gc_grace_s: int = Field(default=7 * 24 * 3600, ge=0)
    config: Path | None = None
    #: Where the services' mailboxes come from: the ``config`` file, or the integrations in
    #: the database (docs/configuration.md, "Integrations in the database").
    config_source: Literal["file", "database"] = "file"
    #: The key of the integrations' stored secrets (libs/common/secret_box.py), or its file.
    secrets_key: SecretStr | None = None
    secrets_key_file: Path | None = None
    prefetch: int = Field(default=16, ge=1, le=1000)
    #: AMQP heartbeat in seconds; handlers run off the connection's thread, so a slow
    #: handler does not starve it.
    heartbeat_s: int = Field(default=30, ge=0)
    health_port: int | None = None
    log_level: str = "INFO"
    #: Publish the previous version of each contract while services of the release before
    #: still run (a rolling upgrade; docs/deployment.md, "Upgrading"). Off once all are new.
    publish_previous_contracts: bool = False
    #: Files holding the passwords of the two URLs (container secrets): libs/common/secret_url.py.
    amqp_password_file: Path | None = None
    database_password_file: Path | None = None

    @model_validator(mode="after")
    def _passwords_from_files(self) -> Settings:
        # Frozen model: the URLs are completed in place once, before anyone reads them.
        for field, key in (("amqp", "MAILPIPE_AMQP"), ("database", "MAILPIPE_DATABASE")):
            path = getattr(self, f"{field}_password_file")
            if path is not None:
                url = getattr(self, f"{field}_url").get_secret_value()
                password = read_password_file(path, f"{key}_PASSWORD_FILE")
                full = with_password(url, password, f"{key}_PASSWORD_FILE")
                object.__setattr__(self, f"{field}_url", SecretStr(full))
        return self

    @field_validator("config", "secrets_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # ``MAILPIPE_CONFIG=`` in an env file means "no file", not "the current directory".
        return None if isinstance(value, str) and not value.strip() else value

    def load_config(self) -> MailpipeConfig:
        """The mailbox configuration, or an empty one when ``MAILPIPE_CONFIG`` is unset."""
        if self.config is None:
            return MailpipeConfig()
        return load_config(self.config)

    def service_config(self) -> MailpipeConfig:
        """The mailbox configuration a service runs on: a file with at least one mailbox.

        A service with no mailbox has nothing to do and would look healthy doing it, so a
        missing ``MAILPIPE_CONFIG`` or a file without ``[[mailboxes]]`` stops it at start.
        """
        if self.config is None:
            raise ConfigError(
                "no mailbox configuration: MAILPIPE_CONFIG is not set",
                hint="set MAILPIPE_CONFIG to your mailbox TOML file (docs/configuration.md); "
                "`mailpipe demo` needs none",
            )
        config = load_config(self.config)
        if not config.mailboxes:
            raise ConfigError(
                f"{self.config}: no mailboxes configured",
                hint="add a [[mailboxes]] table with address, tenant_id, client_id and a "
                "credential (docs/configuration.md)",
            )
        return config


def load_config(path: Path) -> MailpipeConfig:
    """Read and validate the TOML file; any problem is one :class:`ConfigError` line."""
    data = read_toml(path)
    try:
        config = MailpipeConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = key_path(tuple(err["loc"])) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {msg}") from None
    read_credentials(path, config.mailboxes)  # a missing secret file fails now, not later
    return config
