"""Two operators at once: concurrent saves against real PostgreSQL, each on its own
connection (one thread per operator). Exactly one row is stored; the others are told why."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from dialpeers.models import Dialpeer
from tests.factories import MembershipFactory, RoutingRuleFactory, TrunkFactory

pytestmark = pytest.mark.django_db(transaction=True)

OPERATORS = 4


def fire_at_once(users, payloads):
    """POST each payload as its user from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(users))
    results = [None] * len(users)

    def run(i):
        client = Client()
        client.force_login(users[i])
        try:
            barrier.wait(timeout=10)
            response = client.post(reverse("dialpeers:dialpeer_add"), payloads[i])
            errors = None
            if response.status_code == 200:
                errors = {
                    k: [str(m) for m in v] for k, v in response.context["form"].errors.items()
                }
            results[i] = (response.status_code, errors)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def operators(tenant):
    return [
        MembershipFactory(tenant=tenant, role="operator", user__username=f"racer{i}").user
        for i in range(OPERATORS)
    ]


def test_identical_concurrent_creates_store_one_row_and_tell_the_others(tenant, operators):
    trunk = TrunkFactory(customer__tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    payload = {
        "name": "Acme → Armenia",
        "customer": trunk.customer_id,
        "trunk": trunk.pk,
        "rule": rule.pk,
    }
    results = fire_at_once(operators, [dict(payload) for _ in operators])
    assert sorted(code for code, _ in results) == [200] * (OPERATORS - 1) + [302]
    assert Dialpeer.objects.filter(trunk=trunk, rule=rule).count() == 1
    winner = Dialpeer.objects.get()
    for code, errors in results:
        if code == 200:
            assert list(errors) == ["__all__"]
            assert (
                f'<a href="/dialpeers/{winner.pk}/">“Acme → Armenia”</a> already links'
                in (errors["__all__"][0])
            )


def test_concurrent_creates_of_one_code_on_one_trunk_store_one_active_dialpeer(tenant, operators):
    trunk = TrunkFactory(customer__tenant=tenant, name="acme-main")
    rules = [RoutingRuleFactory(tenant=tenant, code="374", label=f"AM {i}") for i in operators]
    payloads = [
        {"name": f"AM {i}", "customer": trunk.customer_id, "trunk": trunk.pk, "rule": r.pk}
        for i, r in enumerate(rules)
    ]
    results = fire_at_once(operators, payloads)
    assert sorted(code for code, _ in results) == [200] * (OPERATORS - 1) + [302]
    assert Dialpeer.objects.filter(trunk=trunk, is_active=True).count() == 1
    winner = Dialpeer.objects.get()
    for code, errors in results:
        if code == 200:
            assert errors == {
                "rule": [f"Dialpeer “{winner.name}” already routes code 374 on trunk “acme-main”."]
            }
