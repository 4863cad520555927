"""The mailbox TOML file and integrations, both ways: ``mailpipe config import`` and ``export``.

Import reads the file as the file-based loader does (:func:`~libs.common.settings.load_config`:
the same checks, secret files read) and makes each ``[[mailboxes]]`` entry an
:class:`~libs.common.integration_rules.IntegrationFields` named by its address. Export writes
TOML that loader reads: every setting, the certificate's public PEM, but no secret and no
private key, with a comment where each would go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr

from libs.common.after_processing import after_processing_text
from libs.common.integration_rules import Integration, IntegrationFields
from libs.common.settings import MailboxConfig, MailpipeConfig

#: The keys exported as they are, in the order of docs/configuration.md.
_PLAIN = (
    "address",
    "provider",
    "tenant_id",
    "client_id",
    "folder",
    "poll_interval_s",
    "after_processing",
    "copy_to_folder",
    "quarantine_folder",
    "send_as",
    "send_as_fallback",
    "ignore_senders",
    "auto_acknowledge",
    "auto_ack_per_hour",
    "auto_ack_own_domain",
    "keep_raw_mime",
    "record_token_format",
    "message_id_domain",
)


def fields_of(box: MailboxConfig) -> IntegrationFields:
    """An imported mailbox: its credential read (from the file or its ``*_file`` paths)."""
    secret, pem, kind = box.secret(), None, "secret"
    if box.provider == "google":
        secret, kind = _google_key(box), "service_account"
    elif secret is None:
        kind = "certificate"
        secret, pem = _certificate(box)
    return IntegrationFields(
        name=box.address,
        address=box.address,
        tenant_id=box.tenant_id,
        client_id=box.client_id,
        credential_kind=kind,  # type: ignore[arg-type]
        secret=secret,
        certificate_pem=pem,
        provider=box.provider,
        folder=box.folder,
        poll_interval_s=box.poll_interval_s,
        after_processing=after_processing_text(box.after_processing),
        copy_to_folder=box.copy_to_folder,
        quarantine_folder=box.quarantine_folder,
        auto_acknowledge=box.auto_acknowledge,
        auto_ack_per_hour=box.auto_ack_per_hour,
        auto_ack_own_domain=box.auto_ack_own_domain,
        ignore_senders=box.ignore_senders,
        allow_personal_profiles=bool(box.send_as),
        send_as=box.send_as,
        send_as_fallback=box.send_as_fallback,
        keep_raw_mime=box.keep_raw_mime,
        record_token_format=box.record_token_format,
        message_id_domain=box.message_id_domain,
        google_send_as=box.google_send_as,
    )


def _google_key(box: MailboxConfig) -> SecretStr:
    """The key's JSON text (read from its file when given as one), sealed on save."""
    return SecretStr(json.dumps(box.service_account_info()))


def _certificate(box: MailboxConfig) -> tuple[SecretStr, str]:
    if box.certificate_key is not None and box.certificate_pem is not None:
        return box.certificate_key, box.certificate_pem
    assert box.certificate_file is not None and box.certificate_key_file is not None
    key = Path(box.certificate_key_file).read_text(encoding="utf-8")
    return SecretStr(key), Path(box.certificate_file).read_text(encoding="utf-8")


def imported(config: MailpipeConfig) -> list[IntegrationFields]:
    return [fields_of(box) for box in config.mailboxes]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string (the same escapes).
    return json.dumps(str(value), ensure_ascii=False)


def _mailbox(item: Integration) -> list[str]:
    fields = item.fields
    lines = ["[[mailboxes]]"]
    for key in _PLAIN:
        value = getattr(fields, key)
        if key == "send_as" and not fields.allow_personal_profiles:
            value = ()
        if key in ("tenant_id", "client_id") and fields.provider == "google":
            continue  # Microsoft's
        if value is not None:
            lines.append(f"{key} = {_value(value)}")
    if fields.provider == "google":
        lines.append(f"google_send_as = {_value(fields.google_send_as)}")
    if fields.credential_kind == "service_account":
        lines.append("# service_account_key: not exported; give service_account_key_file")
    elif fields.credential_kind == "secret":
        lines.append("# client_secret: not exported; give client_secret_file (or client_secret)")
    else:
        lines.append(f"certificate_pem = {_value(fields.certificate_pem)}")
        lines.append("# certificate_key: not exported; give the private key again")
    if not fields.enabled:  # the file has no "Enable mailbox": a disabled one stays a comment
        lines = [line if line.startswith("#") else f"# {line}" for line in lines]
    header = f"# integration {fields.name!r}" + ("" if fields.enabled else " (disabled)")
    return ["", header, *lines]


def export_toml(items: Iterable[Integration]) -> str:
    """The file-based loader's TOML for ``items``; secrets and private keys excluded."""
    lines = [
        "# mailpipe integrations, exported (`mailpipe config export`).",
        "# Secrets and private keys are NOT exported: add each mailbox's credential before",
        "# using this file (client_secret_file, certificate_key for a certificate,",
        "# service_account_key_file for a Google mailbox).",
    ]
    for item in items:
        lines += _mailbox(item)
    return "\n".join(lines) + "\n"
