"""The CSV export of every list page (SPEC §8): ``?export=csv`` on the list's own address
answers every matching row (filters and sort kept, not one page), streamed, with the kind's
columns (API field names, references by natural key); never another tenant's rows; cells a
spreadsheet would run as formulas neutralised; a fixed number of queries whatever the rows.

The lists come from the URL configuration (tests/lists.py): a new list without an export
fails here."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.lists import make_rows, table_routes, url_of
from vmgate.export import cell

pytestmark = pytest.mark.django_db

ROUTES = table_routes()


def exported(client, url, params=None):
    response = client.get(url, {**(params or {}), "export": "csv"})
    assert response.status_code == 200, response.status_code
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_list_exports_its_own_rows_with_the_kinds_columns(
    route, op_client, tenant, other_tenant
):
    columns = [c.name for c in route.view_class.export_columns]
    assert columns, f"{route.name} has no export columns"
    rows = make_rows(route, tenant, 3)
    make_rows(route, other_tenant, 2)  # never in this tenant's export
    table = exported(op_client, url_of(route, rows))
    assert table[0] == columns
    assert len(table) == 1 + 3
    assert all(len(line) == len(columns) for line in table)


def test_an_export_holds_every_matching_row_not_one_page(op_client, tenant):
    for i in range(30):
        f.CustomerFactory(tenant=tenant, name=f"carrier {i:02}")
    url = reverse("customers:customer_list")
    page = op_client.get(url, {"per_page": 25, "sort": "name"}).content.decode()
    assert "carrier 24" in page and "carrier 25" not in page  # one page of 25
    table = exported(op_client, url, {"per_page": 25, "page": 2, "sort": "name"})
    assert sorted(line[0] for line in table[1:]) == [f"carrier {i:02}" for i in range(30)]


def test_an_export_keeps_the_lists_filters_and_sort(op_client, tenant):
    for code in ("3741", "3742", "3743", "375"):
        f.RoutingRuleFactory(tenant=tenant, code=code, label=f"rule {code}")
    url = reverse("routing:routingrule_list")
    table = exported(op_client, url, {"q": "374", "sort": "-code"})
    assert [line[0] for line in table[1:]] == ["3743", "3742", "3741"]
    table = exported(op_client, url, {"q": "374", "sort": "code"})
    assert [line[0] for line in table[1:]] == ["3741", "3742", "3743"]


def test_references_are_natural_keys(op_client, tenant):
    plan = f.RatePlanFactory(tenant=tenant, name="wholesale")
    customer = f.CustomerFactory(tenant=tenant, name="Acme")
    trunk = f.TrunkFactory(customer=customer, name="acme-main", rate_plan=plan)
    f.TrunkNetworkFactory(trunk=trunk, network="203.0.113.0/24")
    f.TrunkNetworkFactory(trunk=trunk, network="198.51.100.7/32")
    catch_all = f.RoutingRuleFactory(tenant=tenant, code="", trunk=trunk, label="rest")
    f.DialpeerFactory(tenant=tenant, name="dp", customer=customer, trunk=trunk, rule=catch_all)

    trunks = exported(op_client, reverse("customers:trunk_list"))
    row = dict(zip(trunks[0], trunks[1], strict=True))
    assert row["customer"] == "Acme" and row["rate_plan"] == "wholesale"
    assert sorted(row["networks"].split(" ")) == ["198.51.100.7/32", "203.0.113.0/24"]
    rules = exported(op_client, reverse("routing:routingrule_list"))
    row = dict(zip(rules[0], rules[1], strict=True))
    assert (row["code"], row["trunk"], row["customer"]) == ("*", "acme-main", "Acme")
    dialpeers = exported(op_client, reverse("dialpeers:dialpeer_list"))
    row = dict(zip(dialpeers[0], dialpeers[1], strict=True))
    assert (row["customer"], row["trunk"], row["rule"]) == ("Acme", "acme-main", "*")
    assert row["rule_id"] == str(catch_all.pk) and row["is_active"] == "true"


@pytest.mark.parametrize(
    "value, written",
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+37410", "'+37410"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_formula_cells_are_neutralised(value, written):
    assert cell(value) == written


def test_numbers_dates_and_booleans_are_written_plainly():
    from datetime import date
    from decimal import Decimal

    assert [cell(Decimal("-0.50")), cell(-3), cell(True), cell(None)] == ["-0.50", "-3", "true", ""]
    assert cell(date(2026, 1, 2)) == "2026-01-02"


def test_a_formula_in_a_name_reaches_the_file_neutralised(op_client, tenant):
    f.CustomerFactory(tenant=tenant, name="=cmd|' /C calc'!A0")
    table = exported(op_client, reverse("customers:customer_list"))
    assert table[1][0] == "'=cmd|' /C calc'!A0"


def test_an_export_costs_the_same_queries_for_3_rows_or_30(op_client, tenant):
    url = reverse("customers:trunk_list")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            exported(op_client, url)
        return len(ctx.captured_queries)

    for _ in range(3):
        f.TrunkNetworkFactory(trunk=f.TrunkFactory(customer__tenant=tenant))
    few = queries()
    for _ in range(27):
        f.TrunkNetworkFactory(trunk=f.TrunkFactory(customer__tenant=tenant))
    assert queries() == few


def test_another_tenants_plan_exports_nothing_but_404(op_client, tenant, other_tenant):
    theirs = f.RateFactory(rate_plan=f.RatePlanFactory(tenant=other_tenant), code="374")
    url = reverse("customers:rate_list", kwargs={"plan_pk": theirs.rate_plan_id})
    assert op_client.get(url, {"export": "csv"}).status_code == 404


def test_a_viewer_may_export(viewer_client, tenant):
    f.NetworkFactory(tenant=tenant, name="Viva")
    table = exported(viewer_client, reverse("routing:network_list"))
    assert table == [["name"], ["Viva"]]


def test_an_invalid_filter_answers_the_page_with_its_error_not_a_file(op_client, tenant):
    f.CustomerFactory(tenant=tenant)
    response = op_client.get(
        reverse("customers:customer_list"), {"status": "nonsense", "export": "csv"}
    )
    assert response.status_code == 200
    assert not response.streaming
    assert "text/html" in response["Content-Type"]


def test_the_list_links_its_export_with_its_filters(op_client, tenant):
    f.CustomerFactory(tenant=tenant, status="active")
    url = reverse("customers:customer_list")
    page = op_client.get(url, {"status": "active", "sort": "name", "page": "1"}).content.decode()
    assert 'data-testid="export-csv"' in page
    assert f'href="{url}?status=active&amp;sort=name&amp;export=csv"' in page
