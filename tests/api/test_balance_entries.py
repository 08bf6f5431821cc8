"""``/api/v1/balance-entries/``: list (filters), read, create; never edit or delete; tenants
never see each other's entries; bad input is a 400 that writes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import BalanceEntry, Customer
from tests.factories import CustomerFactory
from vmgate.api_auth import token_cache

pytestmark = pytest.mark.django_db

LIST = "/api/v1/balance-entries/"


def detail(pk):
    return f"{LIST}{pk}/"


def balance_of(customer):
    return Customer.objects.values_list("balance", flat=True).get(pk=customer.pk)


def entry(customer, amount="10", kind="payment", **kw):
    e = BalanceEntry(customer=customer, kind=kind, amount=Decimal(amount), **kw)
    e.save()
    return e


def test_post_records_a_payment_and_moves_the_balance(op_api, tenant, operator):
    customer = CustomerFactory(tenant=tenant, balance=0)
    body = {"customer": customer.pk, "kind": "payment", "amount": "100.50", "reference": "BT-1"}
    response = op_api.post(LIST, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["amount"] == "100.50" and data["balance_after"] == "100.5000"
    assert data["created_by"] == operator.username and data["note"] == ""
    assert balance_of(customer) == Decimal("100.5")
    assert op_api.get(f"/api/v1/customers/{customer.pk}/").json()["balance"] == "100.5000"
    assert op_api.get(detail(data["id"])).json() == data


def test_an_adjustment_with_a_note_may_go_below_zero(op_api, tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("5"))
    body = {"customer": customer.pk, "kind": "adjustment", "amount": "-7.25", "note": "fee"}
    assert op_api.post(LIST, body).status_code == 201
    assert balance_of(customer) == Decimal("-2.25")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_entry_is_never_edited_or_deleted(op_api, tenant, method):
    customer = CustomerFactory(tenant=tenant, balance=0)
    e = entry(customer)
    body = {"customer": customer.pk, "kind": "payment", "amount": "999"}
    response = getattr(op_api, method)(detail(e.pk), body)
    assert response.status_code == 405
    assert BalanceEntry.objects.get().amount == Decimal("10") and balance_of(customer) == 10


BAD = [
    ("zero payment", {"kind": "payment", "amount": "0"}, "amount", "above 0"),
    ("negative payment", {"kind": "payment", "amount": "-1"}, "amount", "above 0"),
    ("zero adjustment", {"kind": "adjustment", "amount": "0", "note": "x"}, "amount", "nothing"),
    ("adjustment, no note", {"kind": "adjustment", "amount": "3"}, "note", "needs a note"),
    ("3 decimals", {"kind": "payment", "amount": "1.005"}, "amount", "2 decimal places"),
    ("huge", {"kind": "payment", "amount": "1" + "0" * 10}, "amount", "below 10,000,000,000"),
    ("huge exponent", {"kind": "payment", "amount": "1e400"}, "amount", ""),
    ("not a number", {"kind": "payment", "amount": "ten"}, "amount", "valid number"),
    ("NaN", {"kind": "payment", "amount": "NaN"}, "amount", ""),
    ("Infinity", {"kind": "payment", "amount": "-Infinity"}, "amount", ""),
    ("JSON number", {"kind": "payment", "amount": 5}, "amount", "decimal string"),
    ("no amount", {"kind": "payment"}, "amount", "required"),
    ("bad kind", {"kind": "gift", "amount": "5"}, "kind", "not a valid choice"),
    ("long reference", {"amount": "5", "reference": "x" * 101}, "reference", "100"),
    ("NUL in note", {"amount": "5", "note": "a\x00b"}, "note", "Null"),
]


@pytest.mark.parametrize("label, body, field, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_400_that_writes_nothing(op_api, tenant, label, body, field, message):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("3"))
    response = op_api.post(LIST, {"customer": customer.pk, **body})
    assert response.status_code == 400, (label, response.status_code)
    errors = response.json()
    assert field in errors and message in " ".join(errors[field])
    assert BalanceEntry.objects.count() == 0 and balance_of(customer) == Decimal("3")


def test_the_customer_is_required_and_must_be_an_id(op_api, tenant):
    for body in ({"kind": "payment", "amount": "5"}, {"customer": "1", "amount": "5"}):
        response = op_api.post(LIST, body)
        assert response.status_code == 400 and "customer" in response.json()
    assert BalanceEntry.objects.count() == 0


def test_a_viewer_reads_but_cannot_record(viewer_api, tenant):
    customer = CustomerFactory(tenant=tenant, balance=0)
    e = entry(customer)
    assert viewer_api.get(LIST).status_code == 200
    assert viewer_api.get(detail(e.pk)).status_code == 200
    body = {"customer": customer.pk, "kind": "payment", "amount": "5"}
    assert viewer_api.post(LIST, body).status_code == 403
    assert balance_of(customer) == 10 and BalanceEntry.objects.count() == 1


def test_anonymous_gets_401(anon_api, tenant):
    assert anon_api.get(LIST).status_code == 401
    assert anon_api.post(LIST, {"amount": "5"}).status_code == 401


def test_tenants_never_see_each_others_entries(op_api, tenant, other_tenant):
    ours = CustomerFactory(tenant=tenant, balance=0)
    theirs = CustomerFactory(tenant=other_tenant, balance=0)
    mine, other = entry(ours), entry(theirs, "20")
    listed = op_api.get(LIST).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert op_api.get(detail(other.pk)).status_code == 404
    assert op_api.get(detail(999999)).status_code == 404
    assert op_api.get(detail("x")).status_code == 404
    # Filtering by their customer reads like a missing one.
    response = op_api.get(LIST, {"customer": theirs.pk})
    assert response.status_code == 400 and "customer" in response.json()
    # Recording on their customer: "not found", nothing written.
    body = {"customer": theirs.pk, "kind": "payment", "amount": "5"}
    response = op_api.post(LIST, body)
    missing = op_api.post(LIST, {**body, "customer": 999999})
    assert response.status_code == missing.status_code == 400
    assert response.json()["customer"] == [
        m.replace("999999", str(theirs.pk)) for m in missing.json()["customer"]
    ]
    assert "does not exist" in response.json()["customer"][0]
    assert balance_of(theirs) == 20 and BalanceEntry.objects.count() == 2


def test_filters_by_customer_kind_and_date_range(op_api, tenant):
    a = CustomerFactory(tenant=tenant, name="A", balance=0)
    b = CustomerFactory(tenant=tenant, name="B", balance=0)
    old = entry(a, "1")
    BalanceEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    pay = entry(a, "2")
    adj = entry(a, "-1", kind="adjustment", note="fix")
    other = entry(b, "3")

    def ids(**params):
        response = op_api.get(LIST, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [other.pk, adj.pk, pay.pk, old.pk]  # newest first
    assert ids(customer=a.pk) == [adj.pk, pay.pk, old.pk]
    assert ids(customer=a.pk, kind="payment") == [pay.pk, old.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(customer=a.pk, created_after=since) == [adj.pk, pay.pk]
    assert ids(created_before=since) == [old.pk]
    for bad in ({"kind": "gift"}, {"created_after": "yesterday"}, {"customer": "x"}):
        assert op_api.get(LIST, bad).status_code == 400


def test_the_list_costs_the_same_queries_at_1_and_50_entries(op_api, tenant, operator):
    customer = CustomerFactory(tenant=tenant, balance=0)
    entry(customer, created_by=operator)

    def count():
        token_cache.clear()  # every measured request resolves the token (as the battery)
        with CaptureQueriesContext(connection) as queries:
            response = op_api.get(LIST, {"customer": customer.pk})
            assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    count()  # the token's first use writes last_used_at once
    queries, rows = count()
    assert rows == 1
    for i in range(49):
        entry(customer, created_by=operator if i % 2 else None)
    assert count() == (queries, 50)


def test_the_schema_documents_the_endpoint_and_the_read_only_balance(op_api):
    schema = op_api.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert set(paths[LIST]) >= {"get", "post"}
    assert set(paths["/api/v1/balance-entries/{id}/"]) == {"get", "parameters"} or set(
        paths["/api/v1/balance-entries/{id}/"]
    ) == {"get"}
    params = {p["name"] for p in paths[LIST]["get"]["parameters"]}
    assert {"customer", "kind", "created_after", "created_before"} <= params
    customer = schema["components"]["schemas"]["Customer"]["properties"]["balance"]
    assert customer.get("readOnly") is True
    entry_schema = schema["components"]["schemas"]["BalanceEntry"]["properties"]
    assert entry_schema["balance_after"].get("readOnly") is True
    assert entry_schema["created_by"].get("readOnly") is True
