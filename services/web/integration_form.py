"""The integration form: what each field is called, where in Entra or Exchange (or Google's
Cloud and Admin consoles) its value is found, and the form read back into
:class:`~libs.common.integration_rules.IntegrationFields`.

Labels follow the seed's setup steps word for word. A refused form keeps what was typed except
the secret and the uploads (``entered`` never holds them)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from pydantic import SecretStr
from starlette.datastructures import FormData, UploadFile

from libs.common.integration_rules import Integration, IntegrationFields

#: The field names of the form (inputs), their labels and one line of help each.
LABELS: dict[str, str] = {
    "name": "Name",
    "enabled": "Enable mailbox",
    "direction": "Direction",
    "protocol": "Protocol",
    "provider": "Service provider",
    "client_id": "Client ID",
    "credential_kind": "Credential",
    "client_secret": "Client secret",
    "certificate_pem": "Certificate (PEM)",
    "certificate_key": "Certificate private key (PEM)",
    "tenant_id": "Tenant ID",
    "service_account_key": "Service account key (JSON)",
    "google_send_as": "Agents send as",
    "secret_expires_on": "Secret expiry date",
    "address": "Mailbox address",
    "folder": "Folder",
    "poll_interval_s": "Poll interval (seconds)",
    "after_processing": "After processing",
    "copy_to_folder": "Send a copy of the incoming emails to",
    "quarantine_folder": "Quarantine folder",
    "auto_acknowledge": "Send an automatic acknowledgement",
    "auto_ack_per_hour": "Acknowledgements per sender per hour",
    "auto_ack_own_domain": "Acknowledge senders of our own domain",
    "ignore_senders": "Ignore these senders",
    "allow_personal_profiles": "Allow admins to send messages from their personal email profiles",
    "send_as_users": "Agents who may send as themselves",
    "send_as": "Agents' addresses",
    "is_default": "Default integration",
}

HELP: dict[str, str] = {
    "name": "A name for this integration in the console, e.g. Support.",
    "enabled": "Off: the services leave this mailbox alone; the settings are kept.",
    "direction": "Incoming reads the mailbox; outgoing sends replies from it; both does both.",
    "protocol": "OAuth 2.0 with an Entra app registration (client credentials).",
    "provider": "Microsoft 365 / Exchange Online through Microsoft Graph, or Google "
    "Workspace through the Gmail API; only the chosen provider's fields below are used.",
    "service_account_key": "Cloud console → IAM & Admin → Service accounts → the account → "
    "Keys → Add key → JSON: upload that file (kept sealed, never shown). Its client ID needs "
    "domain-wide delegation of gmail.modify and gmail.send in the Admin console; the mailbox "
    "address below is the user it acts as (docs/google.md).",
    "google_send_as": "Themselves: the service account acts as each agent (their Sent keeps the "
    "copy). An alias: a verified Send mail as address of this mailbox (Gmail → Settings → "
    "Accounts), which also needs the gmail.settings.basic scope delegated.",
    "client_id": "Entra admin center → App registrations → your app → Overview → "
    "Application (client) ID.",
    "credential_kind": "A client secret, or a certificate uploaded to the app registration.",
    "client_secret": "Entra admin center → App registrations → your app → Certificates & "
    "secrets → the secret's Value (shown once when made), not its Secret ID.",
    "certificate_pem": "The public certificate you uploaded under Certificates & secrets → "
    "Certificates.",
    "certificate_key": "The private key of that certificate, in PEM (kept sealed).",
    "tenant_id": "Entra admin center → App registrations → your app → Overview → "
    "Directory (tenant) ID (or your tenant's domain).",
    "secret_expires_on": "Certificates & secrets → the Expires column; the console reminds "
    "you 30 days before.",
    "address": "Exchange admin center → Recipients → Mailboxes → the shared mailbox's "
    "email address.",
    "folder": "The mail folder read, as Outlook names it (inbox by default).",
    "poll_interval_s": "How often the mailbox is read, in seconds.",
    "after_processing": "delete, or move:<folder> (a folder that exists in the mailbox).",
    "copy_to_folder": "A folder of the mailbox that keeps a copy of every incoming email "
    "(empty: none).",
    "quarantine_folder": "Where mail that cannot be processed is moved (created in Outlook "
    "beforehand).",
    "auto_acknowledge": "Reply once to a new sender that their message has arrived.",
    "auto_ack_per_hour": "At most this many acknowledgements to one sender per hour.",
    "auto_ack_own_domain": "Also acknowledge colleagues writing from the mailbox's domain.",
    "ignore_senders": "One address or @domain per line; their mail is not processed.",
    "allow_personal_profiles": "Replies go out as the agent; grant each agent Send As on "
    "the mailbox (Exchange admin center → the mailbox → Delegation).",
    "send_as_users": "Tick each console user who may reply as their personal email (set on "
    "Users); grant each of them Send As in Exchange.",
    "send_as": "Other addresses, one per line, for agents without a console account (used "
    "while the box above is ticked).",
    "is_default": "Replies without a known mailbox go out through the default integration.",
}

SECRET_INPUTS = ("client_secret", "certificate_pem", "certificate_key", "service_account_key")
_FLAGS = ("enabled", "auto_acknowledge", "auto_ack_own_domain", "allow_personal_profiles")
_TEXTS = (
    "name",
    "direction",
    "provider",
    "client_id",
    "credential_kind",
    "tenant_id",
    "address",
    "folder",
    "after_processing",
    "copy_to_folder",
    "quarantine_folder",
    "google_send_as",
)


def entered_of(integration: Integration | None) -> dict[str, Any]:
    """What the form shows for a stored integration (its secret never), or a new one's
    defaults."""
    fields = integration.fields if integration else IntegrationFields("", "", "", "")
    values = {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
    values.pop("secret")
    values.pop("certificate_pem")
    values["secret_expires_on"] = (fields.secret_expires_on or "") and str(fields.secret_expires_on)
    values["copy_to_folder"] = fields.copy_to_folder or ""
    values["ignore_senders"] = "\n".join(fields.ignore_senders)
    values["send_as"] = "\n".join(fields.send_as)
    values["send_as_users"] = []
    return values


def with_people(entered: dict[str, Any], emails: set[str]) -> dict[str, Any]:
    """``entered`` with each address of the Send As list that is a console user's personal
    email ticked by that user instead of written out: the users' boxes show the stored list."""
    typed = _lines(entered["send_as"])
    ticked = [*entered["send_as_users"], *(a.lower() for a in typed if a.lower() in emails)]
    others = [a for a in typed if a.lower() not in emails]
    return {**entered, "send_as_users": list(dict.fromkeys(ticked)), "send_as": "\n".join(others)}


#: The input that holds each kind of credential.
_SECRET_INPUT = {"secret": "client_secret", "service_account": "service_account_key"}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _upload(form: FormData, name: str) -> str:
    value = form.get(name)
    if isinstance(value, UploadFile):
        return value.file.read().decode("utf-8", errors="replace").strip()
    return value.strip() if isinstance(value, str) else ""


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _number(entered: dict[str, Any], errors: dict[str, str], name: str, kind: type) -> Any:
    try:
        return kind(entered[name])
    except ValueError:
        errors[name] = f"not a number: {entered[name]!r}"
        return kind(0)


def _entered(form: FormData) -> dict[str, Any]:
    """What was typed, as the form shows it again (never a secret or an upload)."""
    entered: dict[str, Any] = {name: _text(form, name) for name in _TEXTS}
    entered.update({name: form.get(name) == "on" for name in (*_FLAGS, "is_default")})
    for name in ("poll_interval_s", "auto_ack_per_hour", "secret_expires_on"):
        entered[name] = _text(form, name)
    entered["ignore_senders"] = _text(form, "ignore_senders")
    entered["send_as"] = _text(form, "send_as")
    ticked = form.getlist("send_as_users")
    entered["send_as_users"] = [v.strip().lower() for v in ticked if isinstance(v, str)]
    return entered


def _expiry(entered: dict[str, Any], errors: dict[str, str]) -> date | None:
    if not entered["secret_expires_on"]:
        return None
    try:
        return date.fromisoformat(entered["secret_expires_on"])
    except ValueError:
        errors["secret_expires_on"] = "not a date: pick the day (YYYY-MM-DD)"  # noqa: S105
        return None


def read_form(
    form: FormData, stored: Integration | None
) -> tuple[IntegrationFields, dict[str, Any], dict[str, str]]:
    """The fields of a posted form, what was typed (to show again, secrets left out) and the
    errors of the values that could not even be read (a number or a date), by field; such a
    value is read as 0 or no date, so the rules still check every other field."""
    entered = _entered(form)
    errors: dict[str, str] = {}
    expires = _expiry(entered, errors)
    poll = _number(entered, errors, "poll_interval_s", float)
    per_hour = _number(entered, errors, "auto_ack_per_hour", int)
    if entered["provider"] == "google":
        # Only the chosen provider's group counts: what the other holds is neither checked nor kept.
        entered.update(credential_kind="service_account", tenant_id="", client_id="")
    if entered["provider"] != "google" or not entered["google_send_as"]:
        entered["google_send_as"] = "impersonate"  # Google's alone; not posted: the default
    kind = entered["credential_kind"]
    secret = _upload(form, _SECRET_INPUT.get(kind, "certificate_key"))
    certificate = _upload(form, "certificate_pem") or (
        stored.fields.certificate_pem if stored else None
    )
    if kind == "service_account":
        certificate = None
    lists = ("ignore_senders", "send_as", "send_as_users")
    base = {k: v for k, v in entered.items() if k not in lists}
    base.update(poll_interval_s=poll, auto_ack_per_hour=per_hour, secret_expires_on=expires)
    base["copy_to_folder"] = entered["copy_to_folder"] or None
    fields = IntegrationFields(
        **base,
        secret=SecretStr(secret) if secret else None,
        certificate_pem=certificate or None,
        ignore_senders=_lines(entered["ignore_senders"]),
        send_as=tuple(dict.fromkeys([*entered["send_as_users"], *_lines(entered["send_as"])])),
    )
    return fields, entered, errors


def in_form_order(errors: dict[str, str]) -> dict[str, str]:
    """``errors`` in the order their fields come in the form (the summary lists them so)."""
    order = {name: place for place, name in enumerate(LABELS)}
    return dict(sorted(errors.items(), key=lambda e: order.get(e[0], len(order))))


def changed_fields(before: IntegrationFields | None, after: IntegrationFields) -> list[str]:
    """The names of the fields a save changed (a new secret as ``secret``; never a value)."""
    names = [f.name for f in dataclasses.fields(after) if f.name != "secret"]
    if before is None:
        return names
    out = [n for n in names if getattr(before, n) != getattr(after, n)]
    return out + (["secret"] if after.secret is not None else [])
