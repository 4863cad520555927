"""Real msal obtains a token from the simulator with a certificate (no secret)."""

from __future__ import annotations

import uuid
from pathlib import Path

from libs.common.graph import GraphMail
from libs.graphsim.testing import SimHandle
from tests.certs import self_signed

from .graph_client_helpers import BOX, control_json, rfc822, seed


def test_certificate_gets_a_token_and_reads_the_mailbox(sim: SimHandle, tmp_path: Path) -> None:
    certificate = self_signed()
    cert_file, key_file = certificate.write(tmp_path)
    cert_pem = certificate.cert_pem
    client_id = str(uuid.uuid4())
    control_json(
        sim,
        "POST",
        "/_sim/apps",
        json={"tenant_id": sim.tenant_id, "client_id": client_id, "certificate_pem": cert_pem},
    )
    seed(sim, rfc822("Certificate test")[0])
    config = sim.config(
        client_id=client_id,
        client_secret=None,
        certificate_file=str(cert_file),
        certificate_key_file=str(key_file),
    )
    with GraphMail(config.graph, config.mailbox(BOX)) as mail:
        assert [m.subject for m in mail.list_messages()] == ["Certificate test"]


def test_a_certificate_held_in_memory_gets_a_token(sim: SimHandle) -> None:
    # What an integration stored in the database gives: the PEM and the opened private key,
    # never written to a file.
    certificate = self_signed()
    client_id = str(uuid.uuid4())
    control_json(
        sim,
        "POST",
        "/_sim/apps",
        json={
            "tenant_id": sim.tenant_id,
            "client_id": client_id,
            "certificate_pem": certificate.cert_pem,
        },
    )
    seed(sim, rfc822("In memory")[0])
    config = sim.config(
        client_id=client_id,
        client_secret=None,
        certificate_pem=certificate.cert_pem,
        certificate_key=certificate.key_pem,
    )
    with GraphMail(config.graph, config.mailbox(BOX)) as mail:
        assert [m.subject for m in mail.list_messages()] == ["In memory"]
