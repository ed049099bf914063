"""A company's Fortnox connection: its states, its encrypted tokens, and a client for it.

- ``lifecycle``: connect, switch company, expire, disconnect (the state machine);
- ``token_store`` and ``crypto``: tokens encrypted at rest, written by compare-and-set;
- ``clients``: a Fortnox client for a company (stored tokens, shared lock and limiter).
"""
