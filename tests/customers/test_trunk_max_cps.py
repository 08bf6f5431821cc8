"""Trunk.max_cps (the SIP edge's calls-per-second limit): on the trunk form and page, checked
like every field; empty means no limit. The edge's side is in tests/sip."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from customers.models import Trunk
from tests.customers.test_trunk_pages import ADD, trunk_data
from tests.factories import CustomerFactory, TrunkFactory, TrunkNetworkFactory

pytestmark = pytest.mark.django_db


def test_the_form_saves_max_cps_and_the_page_shows_it(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", max_cps="25"))
    assert response.status_code == 302
    trunk = Trunk.objects.get(name="sbc-1")
    assert trunk.max_cps == 25
    page = op_client.get(trunk.get_absolute_url()).content.decode()
    assert "Max calls per second" in page and ">25<" in page


def test_empty_max_cps_means_no_limit(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", max_cps=""))
    assert response.status_code == 302
    trunk = Trunk.objects.get(name="sbc-1")
    assert trunk.max_cps is None
    assert "no limit" in op_client.get(trunk.get_absolute_url()).content.decode()


@pytest.mark.parametrize("bad", ["0", "-3", "1.5", "ten", "1000001"])
def test_a_bad_max_cps_is_refused_and_nothing_is_saved(op_client, tenant, bad):
    customer = CustomerFactory(tenant=tenant)
    response = op_client.post(reverse(ADD), trunk_data(customer, "203.0.113.10", max_cps=bad))
    assert response.status_code == 200
    assert response.context["form"].errors["max_cps"]
    assert not Trunk.objects.filter(name="sbc-1").exists()


def test_the_database_refuses_max_cps_below_1(tenant):
    trunk = TrunkFactory(tenant=tenant, customer=CustomerFactory(tenant=tenant))
    with pytest.raises(IntegrityError), transaction.atomic():
        Trunk.objects.filter(pk=trunk.pk).update(max_cps=0)


def edge_stamps():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT key_name, key_value FROM vmgate_edge_stamp")
        return dict(cursor.fetchall())


def test_the_edges_stamps_move_with_their_own_table_only(tenant):
    """The SIP edge reloads its networks or its max_cps table only when that one's stamp
    (view vmgate_edge_stamp) moved: each must move with every change of its own data."""
    from django.db import connection

    if connection.vendor == "sqlite":
        # no hash function there: stamps that differ on every read (migration 0007)
        first, second = edge_stamps(), edge_stamps()
        assert set(first) == {"addresses", "cps"}
        assert all(first[k] != second[k] for k in first)
        return
    trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant))
    seen = [edge_stamps()]

    def moved():
        now = edge_stamps()
        before = seen[-1]
        seen.append(now)
        return {k for k in now if now[k] != before[k]}

    trunk.max_cps = 10
    trunk.save()
    assert moved() == {"cps"}
    trunk.max_cps = 11
    trunk.save()
    assert moved() == {"cps"}
    network = TrunkNetworkFactory(trunk=trunk, network="198.51.100.0/24")
    assert moved() == {"addresses"}
    network.network = "198.51.101.0/24"
    network.save()
    assert moved() == {"addresses"}
    network.delete()
    assert moved() == {"addresses"}
    trunk.max_cps = None
    trunk.save()
    assert moved() == {"cps"}
    trunk.name = "renamed"
    trunk.save()
    assert moved() == set()
