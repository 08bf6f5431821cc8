"""The customers list's "New calls" filter (and the home page's count built on it) is
the SQL form of the model's rule: it must keep exactly the customers the model says."""

import itertools
from decimal import Decimal

import pytest

from customers.filtersets import CustomerFilterSet, takes_calls_q
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_the_sql_filter_agrees_with_the_model_for_every_kind_of_customer(tenant):
    combos = itertools.product(
        ["prepaid", "postpaid"],
        [D("-10"), D("0"), D("0.0001"), D("10")],  # balance
        [D("0"), D("10")],  # credit line
        [False, True],  # unlimited credit
        [(False, D("0")), (True, D("0")), (True, D("10.0001"))],  # overdraft
        ["active", "blocked"],
    )
    for i, (billing, balance, credit, unlimited, (od, od_limit), status) in enumerate(combos):
        CustomerFactory(
            tenant=tenant,
            name=f"c{i}",
            billing_type=billing,
            balance=balance,
            credit_limit=credit,
            credit_unlimited=unlimited,
            overdraft_allowed=od,
            overdraft_limit=od_limit,
            status=status,
        )
    everyone = list(Customer.objects.filter(tenant=tenant))
    expected = {c.pk for c in everyone if c.status == "active" and c.can_take_calls()}
    assert 0 < len(expected) < len(everyone)
    assert set(Customer.objects.filter(takes_calls_q()).values_list("pk", flat=True)) == expected

    def listed(value):
        fs = CustomerFilterSet(
            {"takes_calls": value}, queryset=Customer.objects.all(), tenant=tenant
        )
        return set(fs.qs.values_list("pk", flat=True))

    assert listed("yes") == expected
    assert listed("no") == {c.pk for c in everyone} - expected
    assert listed("bogus") == {c.pk for c in everyone}  # an unknown choice filters nothing
