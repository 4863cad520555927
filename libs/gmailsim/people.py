"""The Workspace's users as the Admin SDK Directory API shows them: one per mailbox of the
simulator, with the profile an admin fills in (name, department, job title, phone)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any


@dataclass
class Person:
    #: Google's user ids are 21 digits; opaque to clients.
    id: str
    address: str
    full_name: str
    department: str | None = None
    title: str | None = None
    phone: str | None = None

    def resource(self) -> dict[str, Any]:
        """The ``domain_public`` view of ``users.get``: what any user of the domain may see.
        Fields the admin left empty are absent, as at Google."""
        given, _, family = self.full_name.partition(" ")
        body: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": self.id,
            "primaryEmail": self.address,
            "name": {"givenName": given, "familyName": family, "fullName": self.full_name},
            "emails": [{"address": self.address, "primary": True}],
        }
        org = {k: v for k, v in (("title", self.title), ("department", self.department)) if v}
        if org:
            body["organizations"] = [org | {"primary": True, "customType": ""}]
        if self.phone:
            body["phones"] = [{"value": self.phone, "type": "work"}]
        return body


def new_person(address: str, full_name: str | None = None) -> Person:
    """A user as the Admin console creates it: a name (by default from the address)."""
    local = address.split("@")[0]
    name = full_name or " ".join(p.capitalize() for p in local.replace(".", " ").split())
    return Person("1" + "".join(secrets.choice("0123456789") for _ in range(20)), address, name)
