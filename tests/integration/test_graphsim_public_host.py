"""The simulator reached by another name (the compose service ``graphsim``): the certificate
covers that name, and the config it writes points there and loads."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509

from libs.common.settings import load_config
from libs.graphsim.certs import ensure_certs

REPO = Path(__file__).resolve().parents[2]


def san_dns_names(cert: Path) -> list[str]:
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    san = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName)


def test_a_new_name_remakes_the_server_cert_under_the_same_ca(tmp_path: Path) -> None:
    first = ensure_certs(tmp_path)
    ca_before, cert_before = first.ca.read_bytes(), first.cert.read_bytes()
    assert san_dns_names(first.cert) == ["localhost"]

    again = ensure_certs(tmp_path, ["graphsim"])
    assert again.ca.read_bytes() == ca_before  # clients that trust the CA keep trusting it
    assert again.cert.read_bytes() != cert_before
    assert san_dns_names(again.cert) == ["localhost", "graphsim"]

    covered = again.cert.read_bytes()
    ensure_certs(tmp_path, ["graphsim"])
    ensure_certs(tmp_path)  # the local names are always covered
    assert again.cert.read_bytes() == covered


def test_served_under_a_public_host_the_name_verifies_and_the_config_points_there(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config" / "mailpipe.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILPIPE_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailpipe",
            "graphsim",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--public-host",
            "graphsim",
            "--state-dir",
            str(tmp_path / "state"),
            "--mailbox",
            "support@contoso.com",
            "--write-config",
            str(config),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "graphsim listening on https://graphsim:PORT ..."
        assert first.startswith("graphsim listening on https://graphsim:"), first
        port = int(first.split("https://graphsim:")[1].split()[0])
        loaded = load_config(config)
        assert loaded.graph.base_url == f"https://graphsim:{port}/v1.0"
        assert loaded.graph.authority_host == f"https://graphsim:{port}"
        assert loaded.graph.ca_bundle == (tmp_path / "state" / "ca.pem").resolve()
        assert [box.address for box in loaded.mailboxes] == ["support@contoso.com"]

        # No DNS for "graphsim" here: connect to 127.0.0.1 and verify the name "graphsim".
        context = ssl.create_default_context(cafile=str(loaded.graph.ca_bundle))
        deadline = time.monotonic() + 30
        while True:
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                    context.wrap_socket(raw, server_hostname="graphsim") as tls,
                ):
                    assert tls.version() is not None
                    break
            except ConnectionRefusedError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the simulator never accepted"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
