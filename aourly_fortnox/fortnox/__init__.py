"""The Fortnox SDK: HTTP client, OAuth, token refresh, rate limiting, typed errors, parsing.

Knows Fortnox and Redis (for the shared limiter and locks); knows no Flask and no database.
Facts it depends on are in docs/fortnox.md.
"""
