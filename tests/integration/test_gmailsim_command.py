"""``mailpipe gmailsim`` as its own process: the key file it writes gets a token through
google-auth, and the token reads the mailbox."""

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
