"""An integration as plain data, and the rules its fields follow: pure functions, no database.

:class:`IntegrationFields` is what the console's form and ``mailpipe config import`` give: every
setting of a mailbox and its Entra app (the field names of
:class:`~libs.common.settings.MailboxConfig`, plus the console's own: ``enabled``,
``direction``, ``allow_personal_profiles``, ``is_default``, ``secret_expires_on``). Its
``secret`` is the client secret's value or the certificate's private key, write-only: ``None``
on an update keeps the stored one. :func:`checked` refuses what is wrong with one line naming
the field (:class:`IntegrationInvalid`), never echoing a secret; :func:`problems` gives every
wrong field at once (the console's form marks them all).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Literal

from pydantic import SecretStr, ValidationError

from libs.common.errors import ConfigError
from libs.common.record_token import DEFAULT_TOKEN_FORMAT
from libs.common.settings import MailboxConfig, mailbox_address

Direction = Literal["incoming", "outgoing", "both"]
CredentialKind = Literal["secret", "certificate", "service_account"]  # the last: Google's key

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(
    r"^(?=.{4,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
PASTED_ID_REFUSAL = (
    "this looks like the secret's ID; paste its Value (shown once when the secret was made)"
)


class IntegrationInvalid(ConfigError):
    """A field of an integration that cannot be saved; ``field`` names it."""

    code = "integration_invalid"

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{field}: {message}", hint=hint)
        self.field = field


@dataclass(frozen=True)
class IntegrationFields:
    """Everything an integration holds but its id, revision and times."""

    name: str
    address: str
    tenant_id: str
    client_id: str
    credential_kind: CredentialKind = "secret"
    #: The client secret's value or the certificate's private key (PEM); ``None``: keep stored.
    secret: SecretStr | None = None
    certificate_pem: str | None = None
    secret_expires_on: date | None = None
    enabled: bool = True
    direction: Direction = "both"
    provider: Literal["microsoft", "google"] = "microsoft"
    folder: str = "inbox"
    poll_interval_s: float = 30.0
    after_processing: str = "delete"
    copy_to_folder: str | None = None
    quarantine_folder: str = "mailpipe-quarantine"
    auto_acknowledge: bool = False
    auto_ack_per_hour: int = 3
    auto_ack_own_domain: bool = False
    ignore_senders: tuple[str, ...] = ()
    allow_personal_profiles: bool = False
    send_as: tuple[str, ...] = ()
    send_as_fallback: Literal["reject", "mailbox"] = "reject"
    keep_raw_mime: bool = False
    record_token_format: str = DEFAULT_TOKEN_FORMAT
    message_id_domain: str | None = None
    is_default: bool = False
    google_send_as: Literal["impersonate", "alias"] = "impersonate"


@dataclass(frozen=True)
class Integration:
    """A stored integration: its fields (``secret`` always ``None``: it stays sealed)."""

    id: int
    fields: IntegrationFields
    revision: int
    created_at: datetime
    updated_at: datetime


def check_tenant(value: str) -> str:
    value = value.strip()
    if _GUID.match(value) or _DOMAIN.match(value):
        return value.lower()
    raise IntegrationInvalid(
        "tenant_id",
        f"not a GUID or a domain: {value!r}",
        hint="copy the Directory (tenant) ID from Entra > App registrations > your app > Overview",
    )


def check_client_id(value: str) -> str:
    value = value.strip()
    if _GUID.match(value):
        return value.lower()
    raise IntegrationInvalid(
        "client_id",
        f"not a GUID: {value!r}",
        hint="copy the Application (client) ID from Entra > App registrations > your app",
    )


def check_secret(value: SecretStr) -> SecretStr:
    """A client secret's value; its ID (a GUID) pasted instead is refused. Never echoed."""
    text = value.get_secret_value().strip()
    if not text:
        raise IntegrationInvalid("client_secret", "empty")
    if _GUID.match(text):
        raise IntegrationInvalid("client_secret", PASTED_ID_REFUSAL)
    return SecretStr(text)


def check_private_key(value: SecretStr) -> SecretStr:
    """A certificate's private key in PEM. Never echoed."""
    text = value.get_secret_value().strip()
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise IntegrationInvalid(
            "certificate_key", "not a PEM private key (-----BEGIN … PRIVATE KEY-----)"
        )
    return SecretStr(text + "\n")


def check_address(value: str, field: str = "address") -> str:
    try:
        return mailbox_address(value)
    except ValueError as exc:
        raise IntegrationInvalid(field, str(exc)) from None


def check_poll_interval(value: float) -> float:
    if not value > 0:
        raise IntegrationInvalid("poll_interval_s", f"must be more than 0 seconds, not {value}")
    return float(value)


def check_one_default(defaults: Iterable[tuple[int | None, bool]]) -> None:
    """``(id, is_default)`` of every integration as it would be saved: at most one default."""
    chosen = [ident for ident, is_default in defaults if is_default]
    if len(chosen) > 1:
        raise IntegrationInvalid(
            "is_default",
            "more than one integration is the default",
            hint="make one integration the default; the others stop being it",
        )


def check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise IntegrationInvalid(field, f"must be one of {', '.join(choices)}, not {value!r}")


def problems(fields: IntegrationFields, *, stored_secret: bool) -> dict[str, IntegrationInvalid]:
    """Every wrong field of ``fields`` at once (field → its refusal, in the order of the
    rules), each rule run on its own; MailboxConfig's own rules only when the others pass.
    ``stored_secret``: an update may leave ``secret`` out and keep the stored one."""
    found: dict[str, IntegrationInvalid] = {}
    for rule in _rules(fields, stored_secret):
        try:
            rule()
        except IntegrationInvalid as exc:
            found.setdefault(exc.field, exc)
    if not found:
        out = _normalised(fields, stored_secret)
        try:
            mailbox_config(out, out.secret or SecretStr("stored"))
        except IntegrationInvalid as exc:
            found[exc.field] = exc
    return found


def checked(fields: IntegrationFields, *, stored_secret: bool) -> IntegrationFields:
    """``fields`` normalised, or :class:`IntegrationInvalid` for the first wrong one.
    ``stored_secret``: an update may leave ``secret`` out and keep the stored one."""
    for first in problems(fields, stored_secret=stored_secret).values():
        raise first
    return _normalised(fields, stored_secret)


def check_name(value: str) -> str:
    if not value.strip():
        raise IntegrationInvalid("name", "empty")
    return value.strip()


def _rules(fields: IntegrationFields, stored_secret: bool) -> list[Callable[[], object]]:
    """The rules of the fields, each a call that raises :class:`IntegrationInvalid`."""
    if fields.provider == "google":
        from libs.common.integration_google import google_rules  # it imports this module

        return google_rules(fields, stored_secret)
    kinds = ("secret", "certificate")
    credential: list[Callable[[], object]] = [
        lambda: _secret_given(fields, stored_secret),
        lambda: _certificate_given(fields),
        lambda: _credential(fields),
    ]
    return [
        lambda: check_name(fields.name),
        lambda: check_choice("direction", fields.direction, ("incoming", "outgoing", "both")),
        lambda: check_choice("credential_kind", fields.credential_kind, kinds),
        *(credential if fields.credential_kind in kinds else []),
        lambda: check_address(fields.address),
        lambda: check_tenant(fields.tenant_id),
        lambda: check_client_id(fields.client_id),
        lambda: check_poll_interval(fields.poll_interval_s),
        *(partial(check_address, a, "send_as") for a in fields.send_as),
    ]


def _normalised(fields: IntegrationFields, stored_secret: bool) -> IntegrationFields:
    """``fields`` as saved; :class:`IntegrationInvalid` for the first wrong one."""
    if fields.provider == "google":
        from libs.common.integration_google import google_normalised

        return google_normalised(fields, stored_secret)
    _secret_given(fields, stored_secret)
    _certificate_given(fields)
    return dataclasses.replace(
        fields,
        name=check_name(fields.name),
        address=check_address(fields.address),
        tenant_id=check_tenant(fields.tenant_id),
        client_id=check_client_id(fields.client_id),
        secret=_credential(fields),
        poll_interval_s=check_poll_interval(fields.poll_interval_s),
        send_as=tuple(check_address(a, "send_as") for a in fields.send_as),
    )


def _secret_given(fields: IntegrationFields, stored_secret: bool) -> None:
    """A new integration (or a new kind of credential) gives its secret or private key."""
    if fields.secret is None and not stored_secret:
        what = "client_secret" if fields.credential_kind == "secret" else "certificate_key"
        raise IntegrationInvalid(what, "missing: a new integration needs its credential")


def _certificate_given(fields: IntegrationFields) -> None:
    """A certificate credential comes with its public certificate."""
    if fields.credential_kind == "certificate" and not fields.certificate_pem:
        raise IntegrationInvalid("certificate_pem", "missing: upload the public certificate")


def _credential(fields: IntegrationFields) -> SecretStr | None:
    """The new secret or private key, checked; ``None`` keeps the stored one."""
    if fields.secret is None:
        return None
    if fields.credential_kind == "secret":
        return check_secret(fields.secret)
    return check_private_key(fields.secret)


def mailbox_config(fields: IntegrationFields, secret: SecretStr) -> MailboxConfig:
    """The service configuration of an integration, its ``secret`` opened."""
    credential: dict[str, object] = {"client_secret": secret}
    if fields.provider == "google":
        credential = {"service_account_key": secret, "google_send_as": fields.google_send_as}
    elif fields.credential_kind == "certificate":
        credential = {"certificate_pem": fields.certificate_pem, "certificate_key": secret}
    try:
        return MailboxConfig(
            address=fields.address,
            provider=fields.provider,
            tenant_id=fields.tenant_id,
            client_id=fields.client_id,
            folder=fields.folder,
            poll_interval_s=fields.poll_interval_s,
            after_processing=fields.after_processing,
            copy_to_folder=fields.copy_to_folder,
            quarantine_folder=fields.quarantine_folder,
            send_as=fields.send_as if fields.allow_personal_profiles else (),
            send_as_fallback=fields.send_as_fallback,
            ignore_senders=fields.ignore_senders,
            auto_acknowledge=fields.auto_acknowledge,
            auto_ack_per_hour=fields.auto_ack_per_hour,
            auto_ack_own_domain=fields.auto_ack_own_domain,
            keep_raw_mime=fields.keep_raw_mime,
            record_token_format=fields.record_token_format,
            message_id_domain=fields.message_id_domain,
            **credential,
        )
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or fields.name
        raise IntegrationInvalid(where, err["msg"].removeprefix("Value error, ")) from None
