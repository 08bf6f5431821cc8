"""vmgate.history.history_rows and the shared History partial."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory, RatePlanFactory, TrunkFactory, UserFactory
from vmgate.history import history_rows

pytestmark = pytest.mark.django_db


def test_history_lists_creation_then_changes_newest_first_with_who_and_old_new(tenant):
    alice = UserFactory(username="alice")
    customer = CustomerFactory(tenant=tenant, name="Acme", email="")
    customer.email = "noc@acme.example"
    customer.status = "blocked"
    customer._history_user = alice
    customer.save()

    rows = history_rows(customer)

    assert [r["action"] for r in rows] == ["changed", "created"]
    changed = rows[0]
    assert changed["who"] == "alice"
    assert ("contact email", "—", "noc@acme.example") in changed["changes"]
    assert ("status", "Active", "Blocked") in changed["changes"]
    assert not any(label == "name" for label, _, _ in changed["changes"])
    created = rows[1]
    assert created["who"] == "system"
    assert ("name", "—", "Acme") in created["changes"]


def test_history_names_foreign_keys_and_reports_deletion(tenant):
    plan_a = RatePlanFactory(tenant=tenant, name="Gold")
    plan_b = RatePlanFactory(tenant=tenant, name="Silver")
    trunk = TrunkFactory(customer__tenant=tenant, rate_plan=plan_a)
    trunk.rate_plan = plan_b
    trunk.save()
    rows = history_rows(trunk)
    assert ("rate plan", "Gold", "Silver") in rows[0]["changes"]
    trunk_pk = trunk.pk
    customer = trunk.customer
    trunk.delete()
    from customers.models import Trunk

    deleted = history_rows(Trunk.history.filter(id=trunk_pk).first().instance)
    assert deleted[0]["action"] == "deleted"
    assert str(customer) in dict((c[0], c[2]) for c in deleted[-1]["changes"])["customer"]


def test_history_query_count_does_not_grow_with_records(tenant):
    plan = RatePlanFactory(tenant=tenant)
    trunk = TrunkFactory(customer__tenant=tenant, rate_plan=plan)
    with CaptureQueriesContext(connection) as few:
        history_rows(trunk)
    for n in range(30):
        trunk.max_concurrent_calls = 20 + n
        trunk._history_user = UserFactory()
        trunk.save()
    with CaptureQueriesContext(connection) as many:
        rows = history_rows(trunk)
    assert len(rows) == 31
    assert len(many) == len(few)


def test_history_is_limited_to_the_newest_records(tenant):
    customer = CustomerFactory(tenant=tenant)
    for n in range(5):
        customer.phone = f"+3741000{n}"
        customer.save()
    rows = history_rows(customer, limit=3)
    assert len(rows) == 3
    assert rows[0]["changes"] == [("phone", "+37410003", "+37410004")]


def test_history_partial_renders_rows_and_an_empty_state(tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    html = render_to_string("generic/_history.html", {"history": history_rows(customer)})
    assert "created" in html and "Acme" in html
    assert "No history recorded yet." in render_to_string("generic/_history.html", {"history": []})
