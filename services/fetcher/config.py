"""The fetcher's own settings (environment, prefix ``MAILPIPE_FETCHER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.fetcher.schedule import POLL_THREADS


class FetcherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILPIPE_FETCHER_", extra="ignore", frozen=True)

    #: Threads that run the mailboxes' rounds (:mod:`services.fetcher.schedule`): a thread per
    #: mailbox up to this many mailboxes; beyond, the mailboxes take turns on them.
    poll_threads: int = Field(default=POLL_THREADS, ge=1, le=1000)
