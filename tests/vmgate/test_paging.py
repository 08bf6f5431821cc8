"""vmgate.paging.deferred_paging: same rows and order as plain slicing, fixed query cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory
from vmgate.paging import deferred_paging, per_page_choice, plain_number

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


# The request side: parameters from the address bar ------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", 1),
        ("42", 42),
        ("999999999", 999999999),
        ("1234567890", None),  # more digits than a page number has
        ("0", None),
        ("-1", None),
        ("+3", None),
        (" 3", None),
        ("٤", None),  # int() would read 4
        ("1_000", None),
        ("3\x00", None),
        ("", None),
        (None, None),
        ("abc", None),
    ],
)
def test_plain_number_accepts_only_ascii_digits(raw, expected):
    assert plain_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [("25", 25), ("50", 50), ("100", 100), ("250", 250), ("10", None), ("-1", None)]
    + [("0", None), ("251", None), ("9" * 30, None), ("٥٠", None), ("050", 50)],
)
def test_per_page_is_one_of_the_choices(raw, expected):
    assert per_page_choice(raw) == expected


def paged(rf, tenant, params, per_page=None):
    from customers.tables import CustomerTable

    table = CustomerTable(
        deferred_paging(Customer.objects.filter(tenant=tenant).order_by("name")),
        request=rf.get("/customers/", params),
        per_page=per_page,
    )
    return table


def test_paginate_clamps_every_page_number_and_size(rf, tenant):
    for n in range(60):
        CustomerFactory(tenant=tenant, name=f"C{n:02d}")
    cases = {
        (("page", "2"),): (2, 25, None),
        (("page", "3"),): (3, 25, None),
        (("page", "4"),): (3, 25, 4),  # past the end: the last page, and the page asked for
        (("page", "99999"),): (3, 25, 99999),
        (("page", "-1"),): (1, 25, None),
        (("page", "٢"),): (1, 25, None),
        (("page", "x"),): (1, 25, None),
        (("per_page", "50"), ("page", "2")): (2, 50, None),
        (("per_page", "-1"),): (1, 25, None),
        (("per_page", "0"),): (1, 25, None),
        (("per_page", "10000000000"),): (1, 25, None),
    }
    for params, (number, size, asked) in cases.items():
        table = paged(rf, tenant, dict(params))
        assert (table.page.number, table.paginator.per_page, table.requested_page) == (
            number,
            size,
            asked,
        ), params
    # The view's (remembered) size wins over the request's unless that is valid.
    assert paged(rf, tenant, {}, per_page=100).paginator.per_page == 100
    assert paged(rf, tenant, {}, per_page=7).paginator.per_page == 25
    last = paged(rf, tenant, {"page": "3"})
    assert [c.name for c in last.page.object_list.data] == [f"C{n}" for n in range(50, 60)]


def test_an_empty_list_is_one_empty_page(rf, tenant):
    table = paged(rf, tenant, {"page": "5"})
    assert table.page.number == 1 and table.paginator.count == 0
    assert list(table.page.object_list) == []


def test_sort_takes_only_orderable_columns(rf, tenant):
    for n in (3, 1, 2):
        CustomerFactory(tenant=tenant, name=f"C{n}")
    assert [c.name for c in paged(rf, tenant, {"sort": "-name"}).page.object_list.data] == [
        "C3",
        "C2",
        "C1",
    ]
    for junk in ("actions", "nope", "-", "\x00", "name\x00"):
        table = paged(rf, tenant, {"sort": junk})
        assert [c.name for c in table.page.object_list.data] == ["C1", "C2", "C3"], junk


def test_wrapping_a_wrapped_queryset_keeps_one_wrapper(tenant):
    CustomerFactory(tenant=tenant)
    once = deferred_paging(Customer.objects.filter(tenant=tenant))
    twice = deferred_paging(once, rows=lambda pks: Customer.objects.filter(pk__in=pks))
    assert type(twice) is type(once) and twice._page_rows is not None
    assert len(twice[0:5]) == 1


def test_list_links_keep_the_path_and_start_again_at_page_one_on_a_new_sort(rf):
    from vmgate.templatetags.lists import list_url_for

    request = rf.get("/routing/rules/", {"q": "37", "page": "3", "status": "", "sort": "code"})
    assert list_url_for(request, page=4) == "/routing/rules/?q=37&sort=code&page=4"
    assert list_url_for(request, sort="-code") == "/routing/rules/?q=37&sort=-code"
    assert list_url_for(request, per_page=50) == "/routing/rules/?q=37&sort=code&per_page=50"
    assert list_url_for(rf.get("/routing/rules/"), page=None) == "/routing/rules/"
