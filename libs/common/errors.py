"""One hierarchy of typed errors for every part of mailpipe.

Every error is either *retryable* (the same work may succeed later: throttling, a broker
that went away, a timeout) or *permanent* (retrying cannot help; a person must act). A
permanent error always carries ``hint``: what the operator should do about it.

Messages never contain secrets: callers pass addresses, ids and codes, never tokens.
"""

from __future__ import annotations


class MailpipeError(Exception):
    """Base of every error mailpipe raises on purpose."""

    retryable: bool = False
    #: A short machine-readable reason, used in dead-letter headers and results.
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class RetryableError(MailpipeError):
    """The same work may succeed if tried again later."""

    retryable = True
    code = "retryable"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, code=code, hint=hint)
        self.retry_after_s = retry_after_s


class HandBack(RetryableError):
    """The handler gives its message back to the queue untried (the service is stopping):
    requeued as it is, no retry tier taken, no attempt counted."""

    code = "handed_back"


class PermanentError(MailpipeError):
    """Retrying cannot help; ``hint`` says what the operator should do."""

    retryable = False
    code = "permanent"


class ConfigError(PermanentError):
    """The configuration is wrong. The message names the key and the file."""

    code = "config_error"


class ContractError(PermanentError):
    """A message does not satisfy its contract (bad JSON, wrong schema, field limits)."""

    code = "contract_violation"


class BrokerError(RetryableError):
    """The message broker could not be reached or refused an operation."""

    code = "broker_unavailable"


class UnroutableError(PermanentError):
    """A published message matched no queue (a topology or routing-key mistake)."""

    code = "unroutable"
