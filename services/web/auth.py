"""Sign-in, sessions and passwords: the console's rules (:mod:`services.web.domain`) applied to
its repository. argon2id hashes (argon2-cffi), rehashed at sign-in when the parameters change;
the session token and the CSRF secret are random, and only the token's sha256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from libs.common.db import Clock
from services.web.domain.passwords import normalize_username
from services.web.domain.throttle import ThrottlePolicy, throttle_wait, throttled_message
from services.web.domain.tokens import SessionPolicy, session_state
from services.web.store import ConsoleStore, SessionRow, User

log = structlog.get_logger(__name__)

WRONG_CREDENTIALS = "Wrong username or password."
DEFAULT_THROTTLE = ThrottlePolicy()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Current:
    """The signed-in user of a request and its session."""

    user: User
    session: SessionRow


@dataclass(frozen=True)
class SignIn:
    """A sign-in's outcome: the user, or the message and HTTP status of the refusal."""

    user: User | None
    message: str = ""
    status: int = 200


@dataclass(frozen=True)
class NewSession:
    token: str = field(repr=False)
    csrf_secret: str = field(repr=False)


class Accounts:
    """Thread-safe; every call is a few short transactions (and one argon2 hash at most)."""

    def __init__(
        self,
        store: ConsoleStore,
        clock: Clock,
        sessions: SessionPolicy,
        throttle: ThrottlePolicy = DEFAULT_THROTTLE,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.sessions = sessions
        self.throttle = throttle
        self._hasher = hasher or PasswordHasher()
        # Unknown usernames are verified against this, so they take as long as known ones.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash_password(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, user: User | None, password: str) -> bool:
        """Whether ``password`` is ``user``'s; as slow for no user as for a wrong password."""
        try:
            return self._hasher.verify(user.password_hash if user else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False

    def sign_in(self, username: str, password: str, client: str) -> SignIn:
        name = normalize_username(username)[:64]
        attempt = self.store.record_failure(name, client)
        if wait := self._throttled(name, client, attempt):
            self.store.forget_failure(attempt)
            log.info("console sign-in refused", username=name, client=client, reason="throttled")
            return SignIn(None, throttled_message(wait), 429)
        user = self.store.user_by_username(name)
        good = self.verify(user, password)
        if user is None or not good or user.disabled:
            reason = "unknown user" if user is None else "disabled" if good else "wrong password"
            self._audit_failure(name, client, reason)
            return SignIn(None, WRONG_CREDENTIALS, 400)
        self.store.clear_failures(name)
        if self._hasher.check_needs_rehash(user.password_hash):
            self.store.change_user(user.id, password_hash=self.hash_password(password))
        self.store.audit(
            "signed in",
            actor_id=user.id,
            actor=user.username,
            target=user.username,
            detail={"client": client},
        )
        log.info("console sign-in", username=user.username, client=client)
        return SignIn(user)

    def _throttled(self, name: str, client: str, attempt: int) -> timedelta | None:
        """How long sign-ins of ``name`` from ``client`` stay refused, counting the failures
        but ``attempt``. The attempt is recorded as a failure BEFORE the count (and the
        password check), so of many guesses sent at once no more than the limit get through:
        the k-th to be recorded sees at least k - 1 others."""
        now = self.clock()
        since = now - self.throttle.window
        users, clients = self.store.failures_since(name, client, since, besides=attempt)
        return throttle_wait(users, clients, now, self.throttle)

    def _audit_failure(self, name: str, client: str, reason: str) -> None:
        self.store.audit(
            "sign-in failed",
            actor_id=None,
            actor="",
            target=name,
            detail={"client": client, "reason": reason},
        )
        log.info("console sign-in refused", username=name, client=client, reason=reason)

    def start_session(self, user: User) -> NewSession:
        new = NewSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        expires = self.clock() + self.sessions.absolute
        self.store.open_session(user.id, token_digest(new.token), new.csrf_secret, expires)
        return new

    def renew_session(self, user: User) -> tuple[NewSession, Current]:
        """End every session of ``user`` and open a new one: after a password change, a copy
        of the old cookie signs nobody in."""
        self.store.end_sessions_of(user.id)
        new = self.start_session(user)
        row = self.store.session(token_digest(new.token))
        assert row is not None
        return new, Current(user, row)

    def current(self, token: str | None) -> Current | None:
        """The live session of ``token`` and its user; ``None`` when there is none (an expired
        session, or one of a disabled user, is ended on the way)."""
        found = self.still_live(token)
        if found is not None:
            self.store.touch_session(found.session.id)
        return found

    def still_live(self, token: str | None) -> Current | None:
        """As :meth:`current`, but the session is not marked as used: a live update's re-check
        must not keep an idle session alive (docs/console.md, "Live updates")."""
        if not token:
            return None
        row = self.store.session(token_digest(token))
        if row is None:
            return None
        now = self.clock()
        state = session_state(row.created_at, row.last_seen_at, now, self.sessions)
        user = self.store.user(row.user_id)
        if state != "live" or now >= row.expires_at or user is None or user.disabled:
            self.store.end_session(row.id)
            return None
        return Current(user, row)
