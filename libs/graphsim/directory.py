"""The simulated tenant's directory: app registrations (with their Exchange access policies)
and users, each with or without a mailbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from libs.graphsim.state import Mailbox


@dataclass(frozen=True)
class AccessPolicy:
    """An Exchange application access policy: ``RestrictAccess`` lets the app reach only the
    listed mailboxes, ``DenyAccess`` every mailbox but them. Directory calls (``/users``)
    are not affected, as in Exchange Online."""

    access_right: str
    mailboxes: frozenset[str]

    def blocks(self, address: str) -> bool:
        listed = address.lower() in self.mailboxes
        return not listed if self.access_right == "RestrictAccess" else listed


@dataclass
class App:
    """An Entra app registration known to the simulator."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate_pem: str | None = field(default=None, repr=False)
    permissions: frozenset[str] = frozenset({"Mail.ReadWrite", "Mail.Send", "User.Read.All"})
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: Epoch seconds after which the client secret is refused with AADSTS7000222.
    secret_expires_at: float | None = None
    access_policy: AccessPolicy | None = None


@dataclass(eq=False)
class User:
    """A directory user; ``mailbox`` is ``None`` for a user without an Exchange mailbox."""

    address: str
    user_id: str
    display_name: str
    mailbox: Mailbox | None


def display_name_for(address: str) -> str:
    local = address.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split("."))
