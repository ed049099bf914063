"""Tests of the example host, written as a user (or an operator) would use it."""
