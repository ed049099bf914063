"""A threaded WSGI server for the sandbox, bound to loopback only.

Werkzeug's threaded server: one thread per connection, enough for 8+ concurrent client
processes; the store's lock serialises the state underneath.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HOST = "127.0.0.1"


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Drops the access line per request (``--quiet``); werkzeug still logs errors."""
        return None


def make_sandbox_server(app: Flask, port: int, *, quiet: bool = False) -> BaseWSGIServer:
    """Bind ``127.0.0.1:port`` (0 picks a free port; read it back from ``server_port``)."""
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    return make_server(HOST, port, app, threaded=True, request_handler=handler)
