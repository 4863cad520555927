"""The mail provider of an end-to-end stack, behind one small interface: a ``MailWorld``.

The e2e scenarios seed mail, count what is in the inbox, the place removed mail goes and the
quarantine, read the mailbox's timeline and list what it sent, without knowing which
simulator serves it. ``GraphWorld`` is the Microsoft side (libs/graphsim), ``GmailWorld`` the
Google side (libs/gmailsim). Where the providers genuinely differ the world says so in its
attributes, and the assertions follow them:

- ``removed_folder``: where removed mail is kept — Recoverable Items on Microsoft, the trash on
  Google (docs/google.md);
- ``copy_keeps_id``: a copy into a folder is a new message on Microsoft, a label on the same
  message on Google (``copy_to_folder`` is a move into that label there);
- ``directory``: whether requesters can be looked up (both: Graph's ``/users``, Google's
  Directory API);
- ``volume``: the share of the 500-mail inbound run's mail the provider's variant seeds.
  Gmail's quota paces a mailbox at about 20 mails a second and an acknowledgement costs 100
  units, so its variant seeds about 120, the same mix: every outcome kind still shows, and
  loss or duplicates would too (docs/e2e-tests.md);
- ``copies_kept_in(folder)``: where the originals are after ``copy_to_folder`` — Recoverable
  Items beside a new copy on Microsoft, the copy's label itself on Google;
- ``throttled(stats)``: how many calls the simulator refused as throttled (Graph's
  ``throttled``, Gmail's ``rate_limited``);
- ``open_delta_rounds(stats)``: the most delta rounds open at once per mailbox, where the
  simulator can see them: a Graph delta round is a chain of links; a Gmail history listing is
  stateless calls, so the simulator cannot tell two rounds at once (``None``);
- ``poller_changes(stats)``: per mailbox, how often the token reading its history changed, on
  Gmail (``None`` on Graph): each fetcher process has a token of its own, so one poller at a
  time changes it once per hand-over, and two pollers taking turns at every turn;
- ``secrets()``: what must never appear in a log — the client secret, or the lines of the
  service account's private key.

Folder names are the control API's: ``inbox``, the world's ``removed_folder``, and user folders
(or labels) by name, such as ``mailpipe-quarantine``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from libs.gmailsim.testing import GmailSimHandle
from libs.graphsim.testing import SimHandle

PROVIDERS = ("microsoft", "google")
#: (database backend, provider) of the scenarios that run on both databases: Gmail on SQLite
#: only, as the database and the provider are independent of each other and each run costs
#: CI time (docs/e2e-tests.md).
HEAVY_MATRIX = [("sqlite", "microsoft"), ("postgresql", "microsoft"), ("sqlite", "google")]


def toml_value(value: Any) -> str:
    """A TOML value for the config keys we write (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _table(header: str, entries: Mapping[str, Any]) -> list[str]:
    return ["", header, *(f"{k} = {toml_value(v)}" for k, v in entries.items())]


class MailWorld(Protocol):
    provider: ClassVar[str]
    #: The control API's query parameter that seeds mail into another folder (or label).
    seed_param: ClassVar[str]
    removed_folder: ClassVar[str]
    copy_keeps_id: ClassVar[bool]
    directory: ClassVar[bool]
    volume: ClassVar[float]

    def control(self) -> AbstractContextManager[httpx.Client]: ...

    def config_toml(
        self,
        mailboxes: Iterable[str],
        settings: Mapping[str, Any],
        overrides: Mapping[str, Any],
        key_dir: Path,
    ) -> str: ...

    def sent(self, mailbox: str) -> list[dict[str, Any]]: ...

    def folders(self, mailbox: str) -> dict[str, int]: ...

    def folder_messages(self, folder: str, mailbox: str) -> list[dict[str, Any]]: ...

    def copies_kept_in(self, folder: str) -> str: ...

    def throttled(self, stats: Mapping[str, Any]) -> int: ...

    def open_delta_rounds(self, stats: Mapping[str, Any]) -> dict[str, int] | None: ...

    def poller_changes(self, stats: Mapping[str, Any]) -> dict[str, int] | None: ...

    def secrets(self) -> list[str]: ...


def scaled(world: MailWorld, count: int) -> int:
    """``count`` (a scenario's volume on Graph) for the world's variant, by its ``volume``:
    at least one."""
    return max(1, round(count * world.volume))


def _config(
    header: str,
    section: Mapping[str, Any],
    mailboxes: Iterable[str],
    entry: Mapping[str, Any],
) -> str:
    """``header``'s table, then one ``[[mailboxes]]`` per address with ``entry``'s keys."""
    lines = _table(header, section)[1:]
    for address in mailboxes:
        lines += _table("[[mailboxes]]", {"address": address, **entry})
    return "\n".join(lines) + "\n"


def _request(world: _SimWorld, method: str, path: str, **kwargs: Any) -> Any:
    with world.control() as control:
        answer = control.request(method, path, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


class _SimWorld:
    """What both worlds do alike. Each names its provider's config table and the control
    API's word for folders, and gives the table's keys and a mailbox entry's."""

    sim: SimHandle | GmailSimHandle
    table: ClassVar[str]
    folder_kind: ClassVar[str]

    def control(self) -> AbstractContextManager[httpx.Client]:
        return self.sim.control()

    def config_toml(
        self,
        mailboxes: Iterable[str],
        settings: Mapping[str, Any],
        overrides: Mapping[str, Any],
        key_dir: Path,
    ) -> str:
        """The provider's table at the simulator (``settings`` such as ``max_retry_s`` go
        there too), every mailbox with working credentials (``overrides`` on top)."""
        section, entry = self.config_parts(key_dir)
        return _config(self.table, {**section, **settings}, mailboxes, {**entry, **overrides})

    def config_parts(self, key_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError

    def folders(self, mailbox: str) -> dict[str, int]:
        return dict(_request(self, "GET", f"/_sim/mailboxes/{mailbox}")[self.folder_kind])


@dataclass
class GraphWorld(_SimWorld):
    """Microsoft 365 through the Graph simulator."""

    sim: SimHandle
    provider: ClassVar[str] = "microsoft"
    seed_param: ClassVar[str] = "folder"
    removed_folder: ClassVar[str] = "recoverableitemsdeletions"
    copy_keeps_id: ClassVar[bool] = False
    directory: ClassVar[bool] = True
    table: ClassVar[str] = "[graph]"
    folder_kind: ClassVar[str] = "folders"
    volume: ClassVar[float] = 1.0

    def config_parts(self, key_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """``[graph]`` at the simulator, the default tenant's client and its secret."""
        sim = self.sim
        graph = {
            "base_url": sim.base_url,
            "authority_host": sim.authority_host,
            "ca_bundle": str(sim.ca_bundle),
        }
        entry = {
            "tenant_id": sim.tenant_id,
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
        }
        return graph, entry

    def sent(self, mailbox: str) -> list[dict[str, Any]]:
        return list(_request(self, "GET", _sent_path(mailbox)))

    def folder_messages(self, folder: str, mailbox: str) -> list[dict[str, Any]]:
        path = f"/_sim/mailboxes/{mailbox}/folders/{folder}/messages"
        return list(_request(self, "GET", path))

    def copies_kept_in(self, folder: str) -> str:
        return self.removed_folder  # the copy is a new item; the original was deleted

    def throttled(self, stats: Mapping[str, Any]) -> int:
        return int(stats["throttled"])

    def open_delta_rounds(self, stats: Mapping[str, Any]) -> dict[str, int] | None:
        return dict(stats["max_open_delta_rounds"])

    def poller_changes(self, stats: Mapping[str, Any]) -> dict[str, int] | None:
        return None  # a delta round is a chain of links: open_delta_rounds sees two at once

    def secrets(self) -> list[str]:
        return [self.sim.client_secret]


@dataclass
class GmailWorld(_SimWorld):
    """Google Workspace through the Gmail simulator: a service account with domain-wide
    delegation, its key file written beside the config."""

    sim: GmailSimHandle
    provider: ClassVar[str] = "google"
    seed_param: ClassVar[str] = "labels"
    removed_folder: ClassVar[str] = "trash"
    copy_keeps_id: ClassVar[bool] = True
    directory: ClassVar[bool] = True
    table: ClassVar[str] = "[google]"
    folder_kind: ClassVar[str] = "labels"
    # About 120 of the 500-mail run's mails, the same mix: every outcome kind still shows.
    volume: ClassVar[float] = 0.24

    def config_parts(self, key_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """``[google]`` at the simulator, every mailbox ``provider = "google"`` with the
        default service account's key file (written into ``key_dir``)."""
        key = key_dir / "google-service-account.json"
        key.write_text(json.dumps(self.sim.key_info))
        key.chmod(0o600)
        root = self.sim.root_url
        google = {"api_url": root, "directory_url": root, "ca_bundle": str(self.sim.ca_bundle)}
        return google, {"provider": "google", "service_account_key_file": str(key)}

    def sent(self, mailbox: str) -> list[dict[str, Any]]:
        """The Graph simulator's shape: the MIME's ``headers`` and standard base64."""
        return [_graph_shaped(entry) for entry in _request(self, "GET", _sent_path(mailbox))]

    def folder_messages(self, folder: str, mailbox: str) -> list[dict[str, Any]]:
        path = f"/_sim/mailboxes/{mailbox}/labels/{folder}/messages"
        with self.control() as control:
            answer = control.get(path)
        if answer.status_code == 404:
            return []  # the label was never created: nothing was put there
        answer.raise_for_status()
        return list(answer.json())

    def copies_kept_in(self, folder: str) -> str:
        return folder  # the "copy" is the label on the very message, never trashed

    def throttled(self, stats: Mapping[str, Any]) -> int:
        return int(stats["rate_limited"])  # injected 429s and quota refusals alike

    def open_delta_rounds(self, stats: Mapping[str, Any]) -> dict[str, int] | None:
        return None  # history.list pages are stateless: no round for the simulator to count

    def poller_changes(self, stats: Mapping[str, Any]) -> dict[str, int] | None:
        return {box: int(n) for box, n in stats["history_reader_changes"].items()}

    def secrets(self) -> list[str]:
        """Each base64 line of the private key: a leak of any part of it shows."""
        pem = str(self.sim.key_info["private_key"])
        return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _sent_path(mailbox: str) -> str:
    return f"/_sim/mailboxes/{mailbox}/sent"


def _graph_shaped(entry: Mapping[str, Any]) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(entry["mime_base64"] + "=" * (-len(entry["mime_base64"]) % 4))
    mime = message_from_bytes(raw, policy=policy.default)
    return {
        **entry,
        "internet_message_id": str(mime.get("Message-ID", "")),
        "headers": {k: str(v) for k, v in mime.items()},
        "mime_base64": base64.b64encode(raw).decode(),
    }


#: The world of each provider, for what a scenario needs to know before any simulator runs.
WORLD_KINDS: dict[str, type[GraphWorld] | type[GmailWorld]] = {
    GraphWorld.provider: GraphWorld,
    GmailWorld.provider: GmailWorld,
}
