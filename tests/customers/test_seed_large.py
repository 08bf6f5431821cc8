"""manage.py seed_large (bench/gen_customers.py) writes valid rows at the asked sizes."""

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
from vmgate.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_seed_large_fills_a_tenant_with_valid_rows_and_refuses_to_run_twice():
    call_command("seed_large", tenant="bench-t", customers=7, trunks=20, rates=11, plans=2)
    tenant = Tenant.objects.get(slug="bench-t")
    assert Membership.objects.get(tenant=tenant).user.username == "bench-t-op"
    assert Customer.objects.filter(tenant=tenant).count() == 7
    assert Trunk.objects.filter(tenant=tenant).count() == 20
    assert TrunkNetwork.objects.filter(trunk__tenant=tenant).count() == 20
    assert RatePlan.objects.filter(tenant=tenant).count() == 3
    assert Rate.objects.filter(rate_plan__tenant=tenant).count() == 11
    for obj in [
        *Customer.objects.filter(tenant=tenant),
        *Trunk.objects.filter(tenant=tenant),
        *TrunkNetwork.objects.filter(trunk__tenant=tenant),
        *Rate.objects.filter(rate_plan__tenant=tenant),
    ]:
        obj.full_clean()
    with pytest.raises(CommandError):
        call_command("seed_large", tenant="bench-t", customers=1, trunks=0, rates=0)
