"""The rules of a Google integration's fields (pure, no Google library): a service account
key instead of Microsoft's tenant, app and secret. The key (its JSON text) is the
integration's ``secret``: sealed like a client secret, write-only, never shown back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from pydantic import SecretStr

from libs.common.errors import ConfigError
from libs.common.google_config import parse_service_account_key
from libs.common.integration_rules import (
    IntegrationFields,
    IntegrationInvalid,
    check_address,
    check_choice,
    check_name,
    check_poll_interval,
)

KEY_FIELD = "service_account_key"


def google_rules(fields: IntegrationFields, stored_secret: bool) -> list[Callable[[], object]]:
    """The rules of a Google integration, each a call that raises IntegrationInvalid."""
    return [
        lambda: check_name(fields.name),
        lambda: check_choice("direction", fields.direction, ("incoming", "outgoing", "both")),
        lambda: service_account_key(fields.secret, stored_secret),
        lambda: check_choice("google_send_as", fields.google_send_as, ("impersonate", "alias")),
        lambda: check_address(fields.address),
        lambda: check_poll_interval(fields.poll_interval_s),
        *(partial(check_address, a, "send_as") for a in fields.send_as),
    ]


def google_normalised(fields: IntegrationFields, stored_secret: bool) -> IntegrationFields:
    """A Google integration as saved: no Microsoft field kept."""
    return dataclasses.replace(
        fields,
        name=check_name(fields.name),
        address=check_address(fields.address),
        tenant_id="",
        client_id="",
        credential_kind="service_account",
        certificate_pem=None,
        secret=service_account_key(fields.secret, stored_secret),
        poll_interval_s=check_poll_interval(fields.poll_interval_s),
        send_as=tuple(check_address(a, "send_as") for a in fields.send_as),
    )


def service_account_key(key: SecretStr | None, stored_secret: bool) -> SecretStr | None:
    """The key's JSON text, checked; ``None`` keeps the stored one. Never echoed."""
    if key is None:
        if not stored_secret:
            raise IntegrationInvalid(KEY_FIELD, "missing: upload the service account key (JSON)")
        return None
    text = key.get_secret_value().strip()
    try:
        parse_service_account_key(text)
    except ConfigError as exc:
        raise IntegrationInvalid(KEY_FIELD, exc.message, exc.hint) from None
    return SecretStr(text)
