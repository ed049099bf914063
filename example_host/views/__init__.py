"""The host's pages, one blueprint per area."""
