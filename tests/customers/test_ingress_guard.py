"""The overlap rule held by PostgreSQL (customers/ingress_guard.py): whatever writes the
rows, two overlapping networks of one tenant and tech prefix on different trunks are
refused; the copies of the trunk's tenant and prefix follow every change; a save that
changes the prefix and replaces the networks together is judged on the result."""

import os

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from customers.models import Trunk, TrunkNetwork
from tests.customers.test_trunk_pages import edit_data
from tests.factories import CustomerFactory, TrunkFactory, TrunkNetworkFactory
from tests.race import api_client

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the overlap constraint is PostgreSQL's; SQLite is correct for one writer",
    ),
]


def copies(trunk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ingress_tenant_id, ingress_tech_prefix FROM customers_trunknetwork "
            "WHERE trunk_id = %s",
            [trunk.pk],
        )
        return cursor.fetchall()


@pytest.fixture
def taken(tenant):
    trunk = TrunkFactory(customer__tenant=tenant, name="alpha", tech_prefix="810")
    TrunkNetworkFactory(trunk=trunk, network="192.0.2.0/24")
    return trunk


def test_the_database_refuses_an_overlap_whoever_writes(tenant, taken):
    other = TrunkFactory(customer__tenant=tenant, tech_prefix="810")
    with pytest.raises(IntegrityError), transaction.atomic():
        TrunkNetwork.objects.create(trunk=other, network="192.0.2.181/32")
    TrunkNetworkFactory(trunk=other, network="198.51.100.0/24")
    moving = TrunkFactory(customer__tenant=tenant, tech_prefix="811")
    TrunkNetworkFactory(trunk=moving, network="192.0.2.128/25")
    with pytest.raises(IntegrityError), transaction.atomic():
        Trunk.objects.filter(pk=moving.pk).update(tech_prefix="810")  # no save(), no clean()
    # Another prefix, another tenant, or the same trunk are fine.
    TrunkNetworkFactory(trunk=taken, network="192.0.2.7/32")
    theirs = TrunkFactory(customer__tenant__slug="theirs", tech_prefix="810")
    TrunkNetworkFactory(trunk=theirs, network="192.0.2.0/24")


def test_the_copies_follow_the_trunk(tenant, taken):
    assert copies(taken) == [(tenant.pk, "810")]
    Trunk.objects.filter(pk=taken.pk).update(tech_prefix="99")
    assert copies(taken) == [(tenant.pk, "99")]
    with connection.cursor() as cursor:  # a writer cannot set them to something else
        cursor.execute(
            "UPDATE customers_trunknetwork SET ingress_tech_prefix = '1' WHERE trunk_id = %s",
            [taken.pk],
        )
    assert copies(taken) == [(tenant.pk, "99")]


def test_a_form_edit_may_change_the_prefix_and_replace_the_clashing_network_at_once(
    tenant, taken, op_client
):
    """In between (new prefix, old network) would clash; the result does not."""
    trunk = TrunkFactory(customer__tenant=tenant, name="beta", tech_prefix="811")
    old = TrunkNetworkFactory(trunk=trunk, network="192.0.2.5/32")
    data = edit_data(trunk, [(old.pk, "198.51.100.5", False)], tech_prefix="810")
    response = op_client.post(reverse("customers:trunk_edit", args=[trunk.pk]), data)
    assert response.status_code == 302
    trunk.refresh_from_db()
    assert trunk.tech_prefix == "810"
    assert list(trunk.networks.values_list("network", flat=True)) == ["198.51.100.5/32"]


def test_an_api_edit_may_change_the_prefix_and_replace_the_clashing_network_at_once(
    tenant, taken, operator
):
    trunk = TrunkFactory(customer__tenant=tenant, name="beta", tech_prefix="811")
    TrunkNetworkFactory(trunk=trunk, network="192.0.2.5/32")
    response = api_client(operator).patch(
        f"/api/v1/trunks/{trunk.pk}/",
        {"tech_prefix": "810", "networks": ["198.51.100.5"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["networks"] == ["198.51.100.5/32"]


def test_an_api_prefix_edit_that_would_clash_is_a_400_naming_the_other_trunk(
    tenant, taken, operator
):
    trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant), tech_prefix="811")
    TrunkNetworkFactory(trunk=trunk, network="192.0.2.5/32")
    response = api_client(operator).patch(
        f"/api/v1/trunks/{trunk.pk}/", {"tech_prefix": "810"}, format="json"
    )
    assert response.status_code == 400
    text = str(response.json())
    assert f"of trunk “alpha” (customer “{taken.customer.name}”)" in text
