"""Customer.trunk_count, the stored trunk count the customers list shows and sorts by: it stays
equal to the real count whichever way trunks are written (database triggers)."""

import pytest
from django.db import connection
from django.urls import reverse

from customers import trunk_count
from customers.models import Customer, Trunk
from tests.api.conftest import token_client
from tests.customers.test_crud import networks_data
from tests.factories import CustomerFactory, TrunkFactory, TrunkNetworkFactory

pytestmark = pytest.mark.django_db


def stored(*customers):
    return [Customer.objects.get(pk=c.pk).trunk_count for c in customers]


def real(*customers):
    return [Trunk.objects.filter(customer=c).count() for c in customers]


def trunk_form(customer, name="sbc-1", prefix="991", net="203.0.113.10"):
    return {
        "customer": customer.pk,
        "name": name,
        "tech_prefix": prefix,
        "max_concurrent_calls": "10",
        "codecs": ["PCMA"],
        "status": "active",
        **networks_data(net),
    }


def test_the_count_follows_trunks_added_moved_and_deleted_through_the_pages(op_client, tenant):
    acme, beta = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    assert stored(acme, beta) == [0, 0]
    op_client.post(reverse("customers:trunk_add"), trunk_form(acme))
    op_client.post(reverse("customers:trunk_add"), trunk_form(acme, "sbc-2", "992", "192.0.2.1"))
    assert stored(acme, beta) == real(acme, beta) == [2, 0]
    # Moving a trunk to another customer (the edit form allows it) moves the count.
    trunk = Trunk.objects.get(name="sbc-1")
    net = trunk.networks.get()
    data = trunk_form(beta, "sbc-1")
    data.update(networks_data("203.0.113.10", initial=1, ids=[net.pk]))
    assert op_client.post(reverse("customers:trunk_edit", args=[trunk.pk]), data).status_code == 302
    assert stored(acme, beta) == real(acme, beta) == [1, 1]
    # An edit that keeps the customer changes nothing.
    data["status"] = "disabled"
    op_client.post(reverse("customers:trunk_edit", args=[trunk.pk]), data)
    assert stored(acme, beta) == [1, 1]
    op_client.post(reverse("customers:trunk_delete", args=[trunk.pk]))
    assert stored(acme, beta) == real(acme, beta) == [1, 0]


def test_the_list_shows_and_sorts_by_the_stored_count(op_client, tenant):
    few, many, none = (CustomerFactory(tenant=tenant, name=n) for n in ("Few", "Many", "None"))
    TrunkFactory(customer=few)
    for _ in range(3):
        TrunkFactory(customer=many)
    url = reverse("customers:customer_list")
    rows = op_client.get(url, {"sort": "-trunk_count"}).context["table"].page.object_list
    assert [(r.record.name, r.record.trunk_count) for r in rows] == [
        ("Many", 3),
        ("Few", 1),
        ("None", 0),
    ]
    assert none.trunk_count == 0


def test_the_count_follows_the_api(tenant, operator):
    api = token_client(operator)
    acme, beta = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    body = {"customer": acme.pk, "name": "in-1", "tech_prefix": "77", "networks": ["192.0.2.7"]}
    response = api.post(reverse("api:trunk-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert stored(acme, beta) == [1, 0]
    url = reverse("api:trunk-detail", args=[response.json()["id"]])
    assert api.patch(url, {"customer": beta.pk}, format="json").status_code == 200
    assert stored(acme, beta) == real(acme, beta) == [0, 1]
    assert api.delete(url).status_code == 204
    assert stored(acme, beta) == [0, 0]


def test_the_count_follows_the_admin(staff_client, tenant):
    acme = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=acme)
    TrunkNetworkFactory(trunk=trunk)
    assert stored(acme) == [1]
    response = staff_client.post(
        reverse("admin:customers_trunk_changelist"),
        {"action": "delete_selected", "_selected_action": [trunk.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert stored(acme) == real(acme) == [0]


def test_the_count_follows_bulk_writes_that_skip_save(tenant):
    acme, beta = CustomerFactory(tenant=tenant), CustomerFactory(tenant=tenant)
    Trunk.objects.bulk_create(
        [Trunk(tenant=tenant, customer=acme, name=f"t{i}", tech_prefix=f"{i}") for i in range(5)]
    )
    assert stored(acme, beta) == [5, 0]
    Trunk.objects.filter(customer=acme, name__in=["t0", "t1"]).update(customer=beta)
    assert stored(acme, beta) == [3, 2]
    Trunk.objects.filter(customer=acme).update(status="disabled")  # no move: no change
    assert stored(acme, beta) == [3, 2]
    Trunk.objects.filter(tenant=tenant).delete()
    assert stored(acme, beta) == [0, 0]


def test_saving_a_customer_never_writes_back_a_stale_count(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    loaded = Customer.objects.get(pk=customer.pk)  # trunk_count 0 in memory
    TrunkFactory(customer=customer)
    loaded.phone = "+37410"
    loaded.save()
    op_client.post(
        reverse("customers:customer_edit", args=[customer.pk]),
        {"name": "Acme", "country": "AM", "billing_type": "prepaid"},
    )
    assert stored(customer) == [1]
    assert Customer.objects.get(pk=customer.pk).phone == ""


def test_the_count_is_not_editable_and_not_in_the_history(op_client, tenant):
    customer = CustomerFactory(tenant=tenant, name="Acme")
    op_client.post(
        reverse("customers:customer_edit", args=[customer.pk]),
        {"name": "Acme", "country": "AM", "billing_type": "prepaid", "trunk_count": "99"},
    )
    assert stored(customer) == [0]
    assert "trunk_count" not in {f.name for f in Customer.history.model._meta.fields}


def test_the_recount_repairs_counts_loaded_with_triggers_off(tenant):
    # What the migration's backfill and a load with triggers off (bench/gen_route_data.py)
    # rely on.
    acme = CustomerFactory(tenant=tenant)
    TrunkFactory(customer=acme)
    TrunkFactory(customer=acme)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET trunk_count = 0")
        assert stored(acme) == [0]
        cursor.execute(trunk_count.RECOUNT_SQL)
    assert stored(acme) == [2]
