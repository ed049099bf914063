"""Real-browser tests (Playwright on Debian's /usr/bin/chromium)."""
