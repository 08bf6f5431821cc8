"""Concurrent balance entries (SPEC §3: "concurrent entries never lose an update"): many
writers, each on its own connection (one thread each), released together by a barrier,
through the API and through the Record payment page. The balance ends exactly at the
start plus the sum, and the recorded running balances are exactly the partial sums."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from customers.models import BalanceEntry, Customer
from tests.api.conftest import token_client
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 24


def fire_at_once(requests):
    """Run each ``request()`` in its own thread, all released by one barrier."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = requests[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def amounts():
    # Distinct amounts, payments and adjustments mixed, cents included.
    return [
        ("adjustment", Decimal(f"-{i}.25")) if i % 4 == 3 else ("payment", Decimal(f"{i + 1}.10"))
        for i in range(WRITERS)
    ]


def assert_exact_ledger(customer, start, moves):
    balance = Customer.objects.values_list("balance", flat=True).get(pk=customer.pk)
    assert balance == start + sum(amount for _, amount in moves)
    entries = list(BalanceEntry.objects.filter(customer=customer).order_by("id"))
    assert len(entries) == len(moves)
    assert sorted(e.amount for e in entries) == sorted(a for _, a in moves)
    # In the order the row lock let them through, each balance_after is the one before it
    # plus its amount: no entry saw a stale balance.
    running = start
    for e in entries:
        running += e.amount
        assert e.balance_after == running
    assert running == balance


def test_concurrent_api_posts_lose_no_update(tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("5"))
    users = [
        MembershipFactory(tenant=tenant, role="operator", user__username=f"api{i}").user
        for i in range(WRITERS)
    ]
    clients = [token_client(u) for u in users]
    moves = amounts()

    def post(i):
        kind, amount = moves[i]
        body = {"customer": customer.pk, "kind": kind, "amount": str(amount), "note": "race"}
        return lambda: clients[i].post("/api/v1/balance-entries/", body, format="json").status_code

    codes = fire_at_once([post(i) for i in range(WRITERS)])
    assert codes == [201] * WRITERS
    assert_exact_ledger(customer, Decimal("5"), moves)


def test_concurrent_record_payment_pages_lose_no_update(tenant):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"))
    users = [
        MembershipFactory(tenant=tenant, role="operator", user__username=f"page{i}").user
        for i in range(WRITERS)
    ]
    moves = amounts()
    url = f"/customers/{customer.pk}/payments/add/"

    def post(i):
        client = Client()
        client.force_login(users[i])
        kind, amount = moves[i]
        body = {"kind": kind, "amount": str(amount), "note": "race", "confirm": "1"}
        return lambda: client.post(url, body).status_code

    codes = fire_at_once([post(i) for i in range(WRITERS)])
    assert codes == [302] * WRITERS
    assert_exact_ledger(customer, Decimal("0"), moves)


def test_concurrent_writers_on_both_paths_and_a_customer_edit_lose_no_update(tenant):
    # An operator saving the customer's form meanwhile never writes back a stale balance.
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"), name="Racer")
    writers = WRITERS // 2
    api_users = [
        MembershipFactory(tenant=tenant, role="operator", user__username=f"mix-api{i}").user
        for i in range(writers)
    ]
    page_users = [
        MembershipFactory(tenant=tenant, role="operator", user__username=f"mix-page{i}").user
        for i in range(writers)
    ]
    editor = MembershipFactory(tenant=tenant, role="operator", user__username="editor").user
    moves = [("payment", Decimal(f"{i + 1}.01")) for i in range(2 * writers)]
    api_clients = [token_client(u) for u in api_users]

    def via_api(i):
        body = {"customer": customer.pk, "kind": "payment", "amount": str(moves[i][1])}
        return lambda: api_clients[i].post("/api/v1/balance-entries/", body).status_code

    def via_page(i):
        client = Client()
        client.force_login(page_users[i])
        body = {"kind": "payment", "amount": str(moves[writers + i][1]), "confirm": "1"}
        return lambda: client.post(f"/customers/{customer.pk}/payments/add/", body).status_code

    def edit():
        client = Client()
        client.force_login(editor)
        body = {"name": "Racer renamed", "country": "AM", "billing_type": "prepaid"}
        return lambda: client.post(f"/customers/{customer.pk}/edit/", body).status_code

    requests = [via_api(i) for i in range(writers)] + [via_page(i) for i in range(writers)]
    codes = fire_at_once([*requests, edit()])
    assert codes == [201] * writers + [302] * writers + [302]
    assert_exact_ledger(customer, Decimal("0"), moves)
    assert Customer.objects.get(pk=customer.pk).name == "Racer renamed"
