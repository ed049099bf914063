"""Where the test suite finds its servers: one place, overridable from the environment.

``AOURLY_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) and
``AOURLY_TEST_POSTGRES_URL`` (default the local ``test`` database) let CI or a developer point
the suite at other servers without editing a test.
"""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("AOURLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "AOURLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
