"""Concurrent writers of one destination (one thread and connection each, released by a
barrier): "a plan has one rate per code and start" holds whichever path writes — the
operator form, the API, an import (mode add) or all at once. Exactly one write wins; every
other is refused with a message saying the rate exists; nothing answers 5xx."""

from functools import partial

import pytest
from django.urls import reverse

from customers.models import Rate
from tests.factories import RatePlanFactory
from tests.race import (
    RACERS,
    api_call,
    api_client,
    fire_at_once,
    form_call,
    import_call,
    session_client,
)

pytestmark = pytest.mark.django_db(transaction=True)

SINCE = "2026-03-01T00:00:00Z"
PATHS = {
    "form": ["form"] * RACERS,
    "api": ["api"] * RACERS,
    "import": ["import"] * RACERS,
    "mixed": ["form", "api", "import", "import"] * 4,
}
# What a loser is told, by path: the constraint's message (form, API), the import's own
# (the row exists: mode add), or the database's refusal of the import's bulk write.
REFUSALS = (
    "This plan already has a rate for this code from this time.",
    "already exists (mode add creates only)",
    "The database refused the rates",
)


@pytest.mark.parametrize("paths", PATHS.values(), ids=PATHS.keys())
def test_concurrent_creates_of_one_code_and_start_store_one_rate(tenant, operator, paths):
    plan = RatePlanFactory(tenant=tenant, name="Deck")
    calls = []
    for i, path in enumerate(paths):
        price = f"0.{i + 10}"
        if path == "form":
            data = {
                "code": "374",
                "valid_since": "2026-03-01T00:00",
                "rate_per_min": price,
                "connection_fee": "0",
                "connection_sec": "0",
                "billing_block_sec": "1",
            }
            url = reverse("customers:rate_add", args=[plan.pk])
            calls.append(partial(form_call, session_client(operator), url, data))
        elif path == "api":
            body = {
                "rate_plan": plan.pk,
                "code": "374",
                "valid_since": SINCE,
                "rate_per_min": price,
            }
            calls.append(partial(api_call, api_client(operator), "post", "/api/v1/rates/", body))
        else:
            text = f"code,valid_since,rate_per_min\n374,{SINCE},{price}\n"
            calls.append(
                partial(import_call, tenant, "rates", text, operator, mode="add", rate_plan=plan)
            )
    outcomes = fire_at_once(calls)
    assert all(o.status < 500 for o in outcomes), [(o.path, o.status) for o in outcomes]
    assert Rate.objects.filter(rate_plan=plan, code="374").count() == 1
    winners = [o for o in outcomes if o.won]
    assert len(winners) == 1, [(o.path, o.status, o.text) for o in outcomes]
    for o in outcomes:
        if not o.won:
            assert any(r in o.text for r in REFUSALS), (o.path, o.status, o.text)
