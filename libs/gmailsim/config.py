"""A mailpipe configuration whose Google mailboxes work against this simulator: as TOML for
``mailpipe gmailsim --write-config``, or as the model for tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from libs.common.settings import GoogleConfig, MailboxConfig, MailpipeConfig


def config_toml(root_url: str, ca: Path, key_file: Path, mailboxes: Iterable[str]) -> str:
    """The ``[google]`` table pointing here (the Gmail API and the Directory API) and one
    google ``[[mailboxes]]`` per mailbox, each with the service account key file (the key's
    own ``token_uri`` names this server)."""
    q = json.dumps  # TOML basic strings accept JSON string escapes
    lines = [
        "# Written by `mailpipe gmailsim`: the Gmail API and Google's token endpoint are the "
        "simulator.",
        "[google]",
        f"api_url = {q(root_url)}",
        f"directory_url = {q(root_url)}",
        f"ca_bundle = {q(str(ca.resolve()))}",
    ]
    for address in mailboxes:
        lines += [
            "",
            "[[mailboxes]]",
            f"address = {q(address)}",
            'provider = "google"',
            f"service_account_key_file = {q(str(key_file.resolve()))}",
        ]
    return "\n".join(lines) + "\n"


def mailpipe_config(
    root_url: str,
    ca: Path,
    key_info: dict[str, Any],
    mailboxes: Iterable[str],
    **mailbox_overrides: Any,
) -> MailpipeConfig:
    """The same as a model, the key given as its text (as the database would)."""
    boxes = tuple(
        MailboxConfig.model_validate(
            {
                "address": address,
                "provider": "google",
                "service_account_key": SecretStr(json.dumps(key_info)),
                **mailbox_overrides,
            }
        )
        for address in mailboxes
    )
    return MailpipeConfig(
        google=GoogleConfig(api_url=root_url, directory_url=root_url, ca_bundle=ca), mailboxes=boxes
    )
