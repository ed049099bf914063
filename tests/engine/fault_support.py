"""What the fault injection tests (issue 19, `make test-faults`) add to ``async_support``: a
TCP proxy to cut a server off without touching it, the size knob, and the figures each test
prints.

The proxy is how PostgreSQL and the sandbox "go down": the shared PostgreSQL server serves
other test runs and must never be stopped, so the workers reach it through a proxy of this
test alone, and the test cuts the proxy.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .async_support import free_port


def scaled(name: str, default: int) -> int:
    """A size the test reads from ``AOURLY_FAULTS_<NAME>`` (develop small, run the issue's
    size by default)."""
    return int(os.environ.get(f"AOURLY_FAULTS_{name}", default))


@dataclass
class Figures:
    """What a fault test prints: faults injected, items, duplicates, lost (and extras)."""

    name: str
    faults: int = 0
    items: int = 0
    duplicates: int = 0
    lost: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, copies: dict[str, int], ids: list[str]) -> None:
        """Duplicates and lost from the sandbox's copies per host id."""
        self.items = len(ids)
        self.duplicates = sum(max(0, copies.get(i, 0) - 1) for i in ids)
        self.lost = sum(1 for i in ids if copies.get(i, 0) == 0)

    def print(self) -> None:
        extras = "".join(f", {key} {value}" for key, value in self.extra.items())
        print(f"\nFAULTS {self.name}: faults injected {self.faults}, items {self.items}, "
              f"duplicates {self.duplicates}, lost {self.lost}{extras}")


class TcpProxy:
    """Forwards connections from a free loopback port to ``target``; :meth:`cut` drops every
    open connection and refuses new ones until :meth:`restore`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.cuts = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True,
                                        name=f"tcp-proxy-{self.port}")
        self._thread.start()
        return self

    def cut(self) -> None:
        """The server is gone: open connections are reset, new ones refused."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets = list(self._open)
            self._open.clear()
        self.cuts += 1
        if listener is not None:
            _close(listener)
        for sock in sockets:
            _close(sock)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def restore(self) -> None:
        """The server is back on the same address."""
        self.start()

    def stop(self) -> None:
        self.cut()

    # -- forwarding ----------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    continue
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def via(url: str, proxy: TcpProxy) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    if parts.password:
        user = f"{parts.username}:{parts.password}@"
    return urlunsplit((parts.scheme, f"{user}127.0.0.1:{proxy.port}", parts.path,
                       parts.query, parts.fragment))


def target_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", int(parts.port or 5432)
