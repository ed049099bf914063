"""A stand-in for ``python -m aourly_fortnox.sandbox`` in the child-process tests.

Answers ``GET /_admin/companies`` like the sandbox does and writes the arguments it got to
``--db``, so a test can check how it was started. ``FAKE_SANDBOX_CRASH=1`` exits at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = json.dumps([{"DatabaseNumber": 1, "CompanyName": "Fake AB"}]).encode()
        if self.path != "/_admin/companies":
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    args = parser.parse_args()
    if os.environ.get("FAKE_SANDBOX_CRASH"):
        print("fake sandbox: crashing as asked", flush=True)
        sys.exit(3)
    with open(args.db, "w") as handle:
        json.dump(vars(args), handle)
    with HTTPServer(("127.0.0.1", args.port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
