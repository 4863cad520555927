"""``mailpipe gmailsim`` as its own process: the key file it writes gets a token through
google-auth, and the token reads the mailbox; the config it writes works through the port."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import requests
from google.auth.transport.requests import Request

from libs.common.mail import open_mailbox
from libs.common.settings import load_config
from tests.gmailsim_helpers import MODIFY, credentials

pytestmark = pytest.mark.timeout(120)


def test_the_command_serves_with_the_key_it_writes(tmp_path: Path) -> None:
    key_path = tmp_path / "key.json"
    command = [
        sys.executable, "-m", "mailpipe", "gmailsim", "--port", "0",
        "--state-dir", str(tmp_path / "state"), "--mailbox", "support@example.com",
        "--write-key", str(key_path),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        root = lines[0].split("listening on ")[1].split()[0]
        assert lines[2].startswith("service account key written")
        info = json.loads(key_path.read_text())
        assert info["token_uri"] == f"{root}/token"
        session = requests.Session()
        session.verify = str(tmp_path / "state" / "ca.pem")
        session.trust_env = False
        creds = credentials(info, "support@example.com", [MODIFY])
        creds.refresh(Request(session))
        ca = tmp_path / "state" / "ca.pem"
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
            resp = client.get(
                f"{root}/gmail/v1/users/me/profile",
                headers={"Authorization": f"Bearer {creds.token}"},
            )
        assert resp.json()["emailAddress"] == "support@example.com"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_config_it_writes_reaches_the_mailbox_through_the_port(tmp_path: Path) -> None:
    config_path = tmp_path / "mailpipe.toml"
    command = [
        sys.executable, "-m", "mailpipe", "gmailsim", "--port", "0",
        "--state-dir", str(tmp_path / "state"), "--mailbox", "support@example.com",
        "--write-config", str(config_path),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[2].startswith("service account key written")
        assert lines[3].startswith("config written")
        config = load_config(config_path)
        box = config.mailbox("support@example.com")
        assert box.provider == "google" and box.service_account_key_file is not None
        assert box.service_account_key_file.stat().st_mode & 0o077 == 0  # the key is private
        mailbox = open_mailbox(config, box)
        try:
            assert mailbox.get_folder("inbox").total_count == 0
        finally:
            mailbox.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
