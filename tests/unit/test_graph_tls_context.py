"""Every mailbox's Graph client shares one TLS context per trust store: a context holds the
whole parsed CA store, and a fetcher with a thousand mailboxes must not keep a thousand."""

from __future__ import annotations

from pathlib import Path

from libs.common.graph._http import ssl_context
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
