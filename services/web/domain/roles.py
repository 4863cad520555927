"""Roles: ``admin`` may do everything, ``agent`` what an agent's pages offer."""

from __future__ import annotations

from typing import Literal, cast

Role = Literal["admin", "agent"]
ROLES: tuple[Role, ...] = ("admin", "agent")
LAST_ADMIN = "This is the last active admin: make another admin first."

#: What each role includes.
_GRANTS: dict[Role, frozenset[Role]] = {
    "admin": frozenset({"admin", "agent"}),
    "agent": frozenset({"agent"}),
}


def parse_role(value: str) -> Role | None:
    """``value`` as a role; ``None`` when it names none."""
    return cast(Role, value) if value in ROLES else None


def may(role: str, required: Role) -> bool:
    """Whether a user of ``role`` may use what needs ``required``."""
    known = parse_role(role)
    return known is not None and required in _GRANTS[known]


def last_admin_problem(active_admins: int, target_is_active_admin: bool) -> str | None:
    """Why disabling or demoting the target is refused: it would leave no active admin."""
    if target_is_active_admin and active_admins <= 1:
        return LAST_ADMIN
    return None
