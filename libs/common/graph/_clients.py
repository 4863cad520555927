"""The HTTP clients every mailbox's Graph calls go through, shared where they can be.

A fetcher may serve a thousand mailboxes. Each of them with a client of its own would keep a
thousand parsed CA stores (a TLS context holds the whole store: ~0.8 MB for the system's) and
a thousand idle keep-alive TLS connections. So every mailbox of one Graph configuration shares
ONE client: one TLS context, one connection pool. Graph's limits are per mailbox (4 requests
in flight, a request budget): :mod:`libs.common.graph._limits` enforces those, not the pool.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from libs.common.settings import GraphConfig

#: Connections the shared client keeps open and may open at once, for all its mailboxes
#: together: enough for a poll round of hundreds of mailboxes to flow (a request waits for a
#: connection at most the request timeout, then is retried as one never sent).
SHARED_POOL_CONNECTIONS = 64

#: One TLS context per trust store, shared by every mailbox's client: a context holds the whole
#: parsed CA store (a few hundred KB), and a fetcher with a thousand mailboxes would otherwise
#: keep a thousand copies. An ``SSLContext`` may serve many connections and threads at once.
_CONTEXTS: dict[tuple[str, int, int] | None, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def ssl_context(graph: GraphConfig) -> ssl.SSLContext:
    """Trust exactly the configured CA bundle, or httpx's default store when none is set."""
    key = None if graph.ca_bundle is None else _file_key(str(graph.ca_bundle))
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            if key is None:
                context = httpx.create_ssl_context()
            else:
                context = ssl.create_default_context(cafile=key[0])
            _CONTEXTS[key] = context
        return context


def _file_key(path: str) -> tuple[str, int, int]:
    """The bundle's path with its size and modification time: a bundle rewritten in place (a
    renewed CA) gets a new context."""
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)  # ssl reports the missing file, as before
    return (path, st.st_mtime_ns, st.st_size)


def build_client(
    graph: GraphConfig,
    transport: httpx.BaseTransport | None = None,
    *,
    connections: int | None = None,
) -> httpx.Client:
    """An HTTP/1.1 keep-alive client; connections are reused across requests and threads."""
    pool = connections or graph.max_concurrency * 2
    return httpx.Client(
        timeout=httpx.Timeout(graph.timeout_s),
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        http1=True,
        http2=False,
        verify=ssl_context(graph),
        transport=transport,
        follow_redirects=False,
    )


@dataclass
class _Shared:
    client: httpx.Client
    users: int = 0


_SHARED: dict[tuple[str, str, float], _Shared] = {}
_SHARED_LOCK = threading.Lock()


def acquire_client(
    graph: GraphConfig, transport: httpx.BaseTransport | None = None
) -> tuple[httpx.Client, Callable[[], None]]:
    """The client for a mailbox of ``graph``, and the call that gives it back (once its last
    user gave it back, it is closed). A given ``transport`` (tests) gets a client of its own."""
    if transport is not None:
        own = build_client(graph, transport)
        return own, own.close
    key = (graph.base_url, str(graph.ca_bundle), graph.timeout_s)
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _Shared(
                build_client(graph, connections=SHARED_POOL_CONNECTIONS)
            )
        shared.users += 1
    released = threading.Event()

    def release() -> None:
        if released.is_set():
            return
        released.set()
        with _SHARED_LOCK:
            shared.users -= 1
            if shared.users == 0 and _SHARED.get(key) is shared:
                del _SHARED[key]
                shared.client.close()

    return shared.client, release
