"""The ``[push]`` table of the mailbox TOML (docs/push.md): where Graph's change notifications
reach the notification endpoint (``mailpipe notify``), and how often a pushed mailbox is still
polled as the safety net. Plain data: no I/O here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

#: A pushed mailbox's poll interval: a lost notification costs at most this long.
SAFETY_INTERVAL_S = 300.0


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Tests and development only: let ``public_url`` be plain ``http://`` (the simulator
    #: started with ``--allow-http-notifications``). Graph itself never calls one, so this is
    #: refused unless set on purpose. Declared first: ``public_url``'s check reads it.
    allow_http: bool = False

    #: The endpoint as Graph reaches it through the operator's HTTPS proxy; notifications go
    #: to ``<public_url>/notifications``, lifecycle events to ``<public_url>/lifecycle``.
    public_url: str
    safety_interval_s: float = Field(default=SAFETY_INTERVAL_S, gt=0)
    #: The pushed mailboxes; empty: every configured mailbox.
    mailboxes: tuple[str, ...] = ()

    @field_validator("public_url")
    @classmethod
    def _https(cls, value: str, info: ValidationInfo) -> str:
        plain_ok = bool(info.data.get("allow_http")) and value.startswith("http://")
        if not value.startswith("https://") and not plain_ok:
            raise ValueError(
                "must be an https:// URL (Graph notifies only HTTPS endpoints; "
                "allow_http = true admits http:// for tests against the simulator)"
            )
        return value.rstrip("/")

    @field_validator("mailboxes")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in value)

    @property
    def notification_url(self) -> str:
        return f"{self.public_url}/notifications"

    @property
    def lifecycle_url(self) -> str:
        return f"{self.public_url}/lifecycle"

    def covers(self, address: str) -> bool:
        """Whether ``address`` is pushed."""
        return not self.mailboxes or address.lower() in self.mailboxes
