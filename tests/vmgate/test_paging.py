"""vmgate.paging.deferred_paging: same rows and order as plain slicing, fixed query cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory
from vmgate.paging import deferred_paging

pytestmark = pytest.mark.django_db


def test_a_slice_has_the_same_rows_in_the_same_order_as_plain_slicing(tenant):
    for n in (5, 3, 9, 1, 7, 2):
        CustomerFactory(tenant=tenant, name=f"C{n}", balance=n)
    plain = Customer.objects.filter(tenant=tenant).order_by("-balance")
    deferred = deferred_paging(plain)
    assert [c.name for c in deferred[1:4]] == [c.name for c in plain[1:4]] == ["C7", "C5", "C3"]
    assert deferred.count() == 6
    assert list(deferred.filter(balance__lt=3)[0:5]) == list(plain.filter(balance__lt=3)[0:5])
    assert deferred[2].name == "C5"  # indexing is untouched
    assert list(deferred[10:20]) == []


def test_a_slice_costs_two_queries_and_only_when_used(tenant):
    for _ in range(30):
        CustomerFactory(tenant=tenant)
    qs = deferred_paging(Customer.objects.filter(tenant=tenant))
    with CaptureQueriesContext(connection) as unused:
        page = qs[20:25]
    assert len(unused) == 0
    with CaptureQueriesContext(connection) as used:
        assert len(page) == 5
        list(page)
    assert len(used) == 2


def test_rows_hook_builds_the_page_rows(tenant):
    for n in range(3):
        CustomerFactory(tenant=tenant, name=f"C{n}")
    seen = []

    def rows(pks):
        seen.append(list(pks))
        return Customer.objects.filter(pk__in=pks).only("name")

    qs = deferred_paging(Customer.objects.filter(tenant=tenant).order_by("name"), rows=rows)
    assert [c.name for c in qs[0:2]] == ["C0", "C1"]
    assert len(seen) == 1 and len(seen[0]) == 2


def test_a_sort_with_ties_pages_through_every_row_exactly_once(tenant):
    # Every customer has the same balance: the pages only agree on an order because the
    # sort is completed with the id, in the direction of the sort.
    ids = [CustomerFactory(tenant=tenant, name=f"C{n:02d}", balance=5).pk for n in range(12)]
    for sort, expected in (("-balance", ids[::-1]), ("balance", ids)):
        qs = deferred_paging(Customer.objects.filter(tenant=tenant).order_by(sort))
        pages = [[c.pk for c in qs[i : i + 5]] for i in range(0, 12, 5)]
        assert sum(pages, []) == expected
