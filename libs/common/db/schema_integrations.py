"""The integrations of the console (0011): each mailbox and the Entra app that reaches it, the
source of the services' configuration with ``MAILPIPE_CONFIG_SOURCE=database``
(docs/configuration.md, "Integrations in the database"). Registered on the one ``metadata`` of
:mod:`libs.common.db.schema`, which imports this module.

Column names follow :class:`~libs.common.settings.MailboxConfig` where they can; the console's
own words are noted beside the others.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Integer, Table

from libs.common.db.schema import ADDRESS, Id, _ts, metadata
from libs.common.db.storable import StoredJSON, StoredString, StoredText

FOLDER = 255

integrations = Table(
    "integrations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", StoredString(200), nullable=False, unique=True),
    Column("enabled", Boolean, nullable=False),  # "Enable mailbox"
    Column("direction", StoredString(16), nullable=False),  # incoming | outgoing | both
    Column("provider", StoredString(32), nullable=False),
    Column("tenant_id", StoredString(255), nullable=False),
    Column("client_id", StoredString(64), nullable=False),
    # secret | certificate | service_account (a Google integration's key)
    Column("credential_kind", StoredString(16), nullable=False),
    # The client secret, the certificate's private key or the Google service account key (its
    # JSON), sealed (libs/common/secret_box.py).
    Column("sealed_secret", StoredText(), nullable=False),
    Column("certificate_pem", StoredText()),  # public: stored as it is
    Column("secret_expires_on", Date),
    Column("address", StoredString(ADDRESS), nullable=False, unique=True),
    Column("folder", StoredString(FOLDER), nullable=False),
    Column("poll_interval_s", Float, nullable=False),
    Column("after_processing", StoredString(FOLDER + 5), nullable=False),  # delete | move:<f>
    Column("copy_to_folder", StoredString(FOLDER)),  # "Send a copy of the incoming emails to"
    Column("quarantine_folder", StoredString(FOLDER), nullable=False),
    Column("auto_acknowledge", Boolean, nullable=False),
    Column("auto_ack_per_hour", Integer, nullable=False),
    Column("auto_ack_own_domain", Boolean, nullable=False),
    Column("ignore_senders", StoredJSON(), nullable=False),
    # "Allow admins to send messages from their personal email profiles" and the agents
    # (MailboxConfig.send_as: empty while not allowed).
    Column("allow_personal_profiles", Boolean, nullable=False),
    Column("send_as", StoredJSON(), nullable=False),
    Column("send_as_fallback", StoredString(16), nullable=False),
    Column("keep_raw_mime", Boolean, nullable=False),
    Column("record_token_format", StoredString(100), nullable=False),
    Column("message_id_domain", StoredString(255)),
    Column("is_default", Boolean, nullable=False),
    # A Google integration's send-as mode (0018): impersonate | alias (docs/google.md).
    Column("google_send_as", StoredString(16), nullable=False, server_default="impersonate"),
    _ts("created_at"),
    _ts("updated_at"),
    # The value of integrations_revision when the row last changed.
    Column("revision", BigInteger, nullable=False),
)

#: One row: bumped by every change of ``integrations`` (a delete too), in the same transaction.
#: A service reads it to notice a change with one cheap query; every writer updates it first,
#: which also serialises writers (the at-most-one-default rule relies on it).
integrations_revision = Table(
    "integrations_revision",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False),
)

#: The last "Test connection" of each integration (0013): when, and each step's outcome and fix
#: (``[{"step", "ok", "detail", "fix"}]``). Deleted with its integration.
integration_checks = Table(
    "integration_checks",
    metadata,
    Column("integration_id", Id, primary_key=True, autoincrement=False),
    _ts("checked_at"),
    Column("ok", Boolean, nullable=False),
    Column("steps", StoredJSON(), nullable=False),
)
