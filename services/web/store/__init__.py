"""The console's repository on the shared database (tables ``console_*``, migration 0010)."""

from services.web.store.accounts import ConsoleStore
from services.web.store.models import AuditEntry, SessionRow, User, UsernameTaken

__all__ = ["AuditEntry", "ConsoleStore", "SessionRow", "User", "UsernameTaken"]
