"""Trunk.max_cps (the SIP edge's calls-per-second limit): on the trunk form and page, checked
like every field; empty means no limit. The edge's side is in tests/sip."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from customers.models import Trunk
from tests.customers.test_trunk_pages import ADD, trunk_data
from tests.factories import CustomerFactory, TrunkFactory

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
