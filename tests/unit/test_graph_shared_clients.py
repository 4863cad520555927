"""Every mailbox of one Graph configuration shares one HTTP client, and every client one TLS
context per trust store: a context holds the whole parsed CA store, and a fetcher with a
thousand mailboxes must not keep a thousand of them, nor a thousand idle connections."""

from __future__ import annotations

from pathlib import Path

import httpx

from libs.common.graph._clients import acquire_client, ssl_context
from libs.common.settings import GraphConfig
from libs.graphsim.certs import ensure_certs


def _bundle(path: Path) -> Path:
    """A CA certificate written to ``path`` (a new CA each call)."""
    made = ensure_certs(path.parent / f"ca-{len(list(path.parent.iterdir()))}")
    path.write_bytes(made.ca.read_bytes())
    return path


def test_one_context_per_trust_store(tmp_path: Path) -> None:
    default_a, default_b = GraphConfig(), GraphConfig()
    assert ssl_context(default_a) is ssl_context(default_b)

    bundle = _bundle(tmp_path / "ca.pem")
    own = GraphConfig(ca_bundle=bundle)
    assert ssl_context(own) is ssl_context(GraphConfig(ca_bundle=bundle))
    assert ssl_context(own) is not ssl_context(default_a)


def test_a_bundle_rewritten_in_place_gets_a_new_context(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "ca.pem")
    before = ssl_context(GraphConfig(ca_bundle=bundle))
    _bundle(bundle)  # a renewed CA at the same path

    assert ssl_context(GraphConfig(ca_bundle=bundle)) is not before


def test_mailboxes_of_one_configuration_share_one_client_until_the_last_gives_it_back() -> None:
    graph = GraphConfig(base_url="https://graph.test/v1.0")
    first, give_first = acquire_client(graph)
    second, give_second = acquire_client(graph)
    assert first is second

    give_first()
    give_first()  # giving back twice counts once
    assert not first.is_closed
    give_second()
    assert first.is_closed

    third, give_third = acquire_client(graph)
    assert third is not first and not third.is_closed
    give_third()


def test_a_client_with_its_own_transport_is_never_shared() -> None:
    graph = GraphConfig(base_url="https://graph.test/v1.0")
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    own, give_own = acquire_client(graph, transport)
    shared, give_shared = acquire_client(graph)
    assert own is not shared
    give_own()
    assert own.is_closed and not shared.is_closed
    give_shared()
