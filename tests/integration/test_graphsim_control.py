"""The simulator's control API: seeding, counts, send-as, faults, stats, reset."""

from __future__ import annotations

from pathlib import Path

from libs.common.settings import load_config
from libs.graphsim.server import Endpoint, config_toml
from libs.graphsim.testing import SimHandle

RAW = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: support@contoso.com\r\n"
    b"Subject: printer on fire\r\n"
    b"Message-ID: <c1@example.org>\r\n"
    b"\r\n"
    b"Please help.\r\n"
)
BOX = "/_sim/mailboxes/support@contoso.com"


def test_seeded_mail_is_counted_per_folder(sim: SimHandle) -> None:
    with sim.control() as c:
        first = c.post(f"{BOX}/messages", content=RAW, headers={"Content-Type": "message/rfc822"})
        c.post(f"{BOX}/messages", params={"folder": "archive"}, content=RAW)
        c.post(f"{BOX}/messages", params={"folder": "Escalations"}, content=RAW)
        counts = c.get(BOX).json()
        listed = c.get(f"{BOX}/folders/inbox/messages").json()
    assert first.status_code == 201
    assert first.json()["id"]
    assert counts["folders"]["inbox"] == 1
    assert counts["folders"]["archive"] == 1
    assert counts["folders"]["Escalations"] == 1
    assert counts["folders"]["recoverableitemsdeletions"] == 0
    assert counts["sent"] == 0
    assert [m["subject"] for m in listed] == ["printer on fire"]
    assert listed[0]["id"] == first.json()["id"]


def test_unknown_mailbox_is_404(sim: SimHandle) -> None:
    with sim.control() as c:
        assert c.post("/_sim/mailboxes/nobody@contoso.com/messages", content=RAW).status_code == 404
        assert c.get("/_sim/mailboxes/nobody@contoso.com").status_code == 404


def test_faults_are_set_read_and_validated(sim: SimHandle) -> None:
    with sim.control() as c:
        ok = c.post("/_sim/faults", json={"throttle_ratio": 0.5, "latency_ms": 5})
        bad = c.post("/_sim/faults", json={"no_such_knob": 1})
        now = c.get("/_sim/faults").json()
    assert ok.status_code == 200
    assert bad.status_code == 400
    assert "no_such_knob" in bad.json()["error"]
    assert now["throttle_ratio"] == 0.5
    assert now["latency_ms"] == 5
    assert now["token_ttl_s"] == 3599


def test_reset_empties_mailboxes_and_clears_faults(sim: SimHandle) -> None:
    with sim.control() as c:
        c.post(f"{BOX}/messages", content=RAW)
        c.post("/_sim/faults", json={"error_ratio": 1.0})
        c.put(f"{BOX}/send-as", json={"allowed": ["agent@contoso.com"]})
        assert c.post("/_sim/reset").status_code == 204
        counts = c.get(BOX).json()
        faults = c.get("/_sim/faults").json()
    assert sum(counts["folders"].values()) == 0
    assert faults["error_ratio"] == 0.0
    box = sim.world.mailbox("support@contoso.com")
    assert box is not None and box.send_as == set()


def test_send_as_grant_is_stored_lowercase(sim: SimHandle) -> None:
    with sim.control() as c:
        r = c.put(f"{BOX}/send-as", json={"allowed": ["Agent.Smith@Contoso.com"]})
    assert r.json() == {"allowed": ["agent.smith@contoso.com"]}


def test_apps_and_users_can_be_added(sim: SimHandle) -> None:
    with sim.control() as c:
        app = c.post(
            "/_sim/apps",
            json={
                "tenant_id": "t-2",
                "client_id": "c-2",
                "client_secret": "s",
                "permissions": ["Mail.Read"],
            },
        )
        user = c.post("/_sim/users", json={"address": "Agent@Contoso.com", "mailbox": False})
        missing = c.post("/_sim/apps", json={"tenant_id": "t-3", "client_id": "c-3"})
    assert app.status_code == 201
    assert app.json()["permissions"] == ["Mail.Read"]
    assert user.status_code == 201
    assert user.json()["address"] == "agent@contoso.com"
    assert missing.status_code == 400


def test_written_config_is_a_valid_mailpipe_config(sim: SimHandle, tmp_path: Path) -> None:
    port = int(sim.authority_host.rsplit(":", 1)[1])
    path = tmp_path / "mailpipe.toml"
    path.write_text(config_toml(Endpoint("127.0.0.1", port, sim.ca_bundle), sim.world))
    config = load_config(path)
    assert config == sim.config()
    assert [m.address for m in config.mailboxes] == list(sim.mailboxes)
    assert config.graph.ca_bundle == sim.ca_bundle.resolve()
    assert sim.client_secret not in repr(config)


def test_written_config_can_turn_auto_acknowledgement_on(sim: SimHandle, tmp_path: Path) -> None:
    # The compose demo asks for it (`--auto-acknowledge`), so a posted mail is answered.
    port = int(sim.authority_host.rsplit(":", 1)[1])
    endpoint = Endpoint("127.0.0.1", port, sim.ca_bundle)
    path = tmp_path / "mailpipe.toml"
    path.write_text(config_toml(endpoint, sim.world, auto_acknowledge=True))
    assert all(box.auto_acknowledge for box in load_config(path).mailboxes)
    path.write_text(config_toml(endpoint, sim.world))
    assert not any(box.auto_acknowledge for box in load_config(path).mailboxes)
