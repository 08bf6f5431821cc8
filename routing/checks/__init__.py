"""Routing checks: saved test calls (ingress + number → expected outcome, reason, rule)
that re-run on demand, from the list page and from ``manage.py run_routing_checks``.

A check runs through ``route_call(..., explain=True)`` — the same decision as live traffic,
but it never advances the round-robin of priority rules.

The package: ``running`` (run a check, compare, record), ``forms``, ``tables``,
``filtersets`` and ``views`` (the pages). This file imports nothing, so the test-call page
can use ``running`` while the checks' table links back to the test-call page.
"""
