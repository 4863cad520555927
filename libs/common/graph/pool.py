"""``GraphPool``: one :class:`GraphMail` per mailbox, made on first use, shared by threads."""

from __future__ import annotations

import threading

from libs.common.graph._retry import RetryPolicy
from libs.common.graph.mail import GraphMail
from libs.common.settings import GraphConfig, MailboxConfig


class GraphPool:
    def __init__(self, graph: GraphConfig, policy: RetryPolicy | None = None) -> None:
        self._graph = graph
        self._policy = policy
        self._clients: dict[str, GraphMail] = {}
        self._lock = threading.Lock()

    def __call__(self, box: MailboxConfig) -> GraphMail:
        with self._lock:
            client = self._clients.get(box.address)
            if client is None:
                client = GraphMail(self._graph, box, policy=self._policy)
                self._clients[box.address] = client
            return client

    def close(self) -> None:
        """Close every client made (their keep-alive connections)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
