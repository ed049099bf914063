"""Keeping the books in step: the outbox, runs, the importer, the schedule and reconcile.

No Flask request and no language here: jobs store reason codes (``aourly_fortnox.reasons``)
and callers in the web layer word them for the owner. The engine that pushes invoices,
customers and vouchers (dispatch, payloads, push, pull) will live here too.
"""
