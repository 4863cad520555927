"""Creating an account outside the pages (``mailpipe admin create-user``): the same rules as
the users page, the same audit row."""

from __future__ import annotations

from libs.common.errors import MailpipeError
from services.web.auth import Accounts
from services.web.domain.passwords import (
    display_name_problem,
    normalize_username,
    password_problem,
    username_problem,
)
from services.web.domain.roles import parse_role
from services.web.store import User

#: The actor of changes made from the command line.
COMMAND_ACTOR = "mailpipe admin"


class AccountRefused(MailpipeError):
    """The account cannot be created as asked; the message says why."""

    code = "account_refused"


def create_account(
    accounts: Accounts, username: str, display_name: str, role: str, password: str
) -> User:
    """A new account, checked by the policy; :class:`AccountRefused` or
    :class:`~services.web.store.UsernameTaken` when it cannot be."""
    name = normalize_username(username)
    if problem := username_problem(name):
        raise AccountRefused(problem, hint="pick another username")
    if problem := display_name_problem(display_name):
        raise AccountRefused(problem, hint="pick a shorter display name of printable characters")
    if parse_role(role) is None:
        raise AccountRefused(f"unknown role {role!r}", hint="use --role admin or --role agent")
    if problem := password_problem(name, password):
        raise AccountRefused(problem, hint="choose a longer password")
    user = accounts.store.create_user(name, display_name, role, accounts.hash_password(password))
    accounts.store.audit(
        "user created", actor_id=None, actor=COMMAND_ACTOR, target=name, detail={"role": role}
    )
    return user
