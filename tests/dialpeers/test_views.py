"""Dialpeer pages: the CRUD battery, the add form, refusals, bulk actions, viewer read-only."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dialpeers.models import Dialpeer
from tests.crud import CrudBattery
from tests.factories import (
    DialpeerFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
)

pytestmark = pytest.mark.django_db


class TestDialpeerCrud(CrudBattery):
    model = Dialpeer
    url_prefix = "dialpeers:dialpeer"

    def make(self, tenant, **kw):
        kw.setdefault("rule__code", str(len(Dialpeer.objects.all()) + 1000))
        return DialpeerFactory(
            trunk__customer__tenant=tenant, trunk__tenant=tenant, rule__tenant=tenant, **kw
        )

    def add_data(self, tenant):
        trunk = TrunkFactory(customer__tenant=tenant)
        rule = RoutingRuleFactory(tenant=tenant, code="374")
        return {
            "name": "Acme → Armenia",
            "customer": trunk.customer_id,
            "trunk": trunk.pk,
            "rule": rule.pk,
        }

    def edit_data(self, obj):
        return {
            "name": obj.name + " (edited)",
            "customer": obj.customer_id,
            "trunk": obj.trunk_id,
            "rule": obj.rule_id,
            "is_active": "",
        }

    def list_text(self, obj):
        return obj.name


def dialpeer_data(trunk, rule, name="DP", **extra):
    return {
        "name": name,
        "customer": trunk.customer_id,
        "trunk": trunk.pk,
        "rule": rule.pk,
        **extra,
    }


def form_errors(response):
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return form.errors


# the list ----------------------------------------------------------------------------------
def test_list_shows_name_customer_rule_as_prefix_and_label_trunk_and_status(op_client, tenant):
    dp = DialpeerFactory(
        name="Acme AM",
        trunk__customer__tenant=tenant,
        trunk__customer__name="Acme",
        trunk__name="acme-main",
        rule__tenant=tenant,
        rule__code="374",
    )
    DialpeerFactory(
        trunk=dp.trunk,
        customer=dp.customer,
        tenant=tenant,
        rule__tenant=tenant,
        rule__code="",
        is_active=False,
        name="Acme any",
    )
    body = op_client.get(reverse("dialpeers:dialpeer_list")).content.decode()
    for text in (
        "Acme AM",
        "Acme",
        "374 — Armenia",
        "acme-main",
        "Active",
        "* (any)",
        "Inactive",
        "+ Add dialpeer",
        "⋮",
    ):
        assert text in body
    headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?([^<]*)", body)
    assert [h.strip() for h in headers if h.strip()] == [
        "Name",
        "Origin customer",
        "Routing rule",
        "Trunk",
        "Status",
    ]


def list_names(client, **params):
    response = client.get(reverse("dialpeers:dialpeer_list"), params)
    assert response.status_code == 200
    return [row.record.name for row in response.context["table"].page.object_list]


def test_list_search_finds_name_rule_code_and_label(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    DialpeerFactory(
        trunk=trunk,
        customer=trunk.customer,
        tenant=tenant,
        name="Alpha",
        rule__tenant=tenant,
        rule__code="374",
    )
    DialpeerFactory(
        trunk=trunk,
        customer=trunk.customer,
        tenant=tenant,
        name="Beta",
        rule__tenant=tenant,
        rule__code="39",
    )
    assert list_names(op_client, q="alp") == ["Alpha"]
    assert list_names(op_client, q="374") == ["Alpha"]
    assert list_names(op_client, q="ital") == ["Beta"]
    assert list_names(op_client, q="\x00") == []  # refused as invalid input, never a 500


def test_list_filters_by_customer_trunk_rule_and_status(op_client, tenant):
    a = DialpeerFactory(
        trunk__customer__tenant=tenant, rule__tenant=tenant, name="A", rule__code="374"
    )
    b = DialpeerFactory(
        trunk__customer__tenant=tenant,
        rule__tenant=tenant,
        name="B",
        rule__code="39",
        is_active=False,
    )
    assert list_names(op_client, customer=a.customer_id) == ["A"]
    assert list_names(op_client, trunk=b.trunk_id) == ["B"]
    assert list_names(op_client, rule=a.rule_id) == ["A"]
    assert list_names(op_client, status="active") == ["A"]
    assert list_names(op_client, status="inactive") == ["B"]


@pytest.mark.parametrize("param", ["customer", "trunk", "rule", "status"])
@pytest.mark.parametrize("value", ["abc", "\x00", "99999999", "-1"])
def test_garbage_filters_never_fail(op_client, tenant, param, value):
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    assert op_client.get(reverse("dialpeers:dialpeer_list"), {param: value}).status_code == 200


def test_another_tenants_ids_in_filters_show_nothing_of_theirs(op_client, tenant, other_tenant):
    theirs = DialpeerFactory(
        trunk__customer__tenant=other_tenant, rule__tenant=other_tenant, name="Theirs"
    )
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant, name="Mine")
    for param, value in (
        ("customer", theirs.customer_id),
        ("trunk", theirs.trunk_id),
        ("rule", theirs.rule_id),
    ):
        names = list_names(op_client, **{param: value})
        assert "Theirs" not in names


def test_filter_selects_render_only_the_chosen_option(op_client, tenant):
    dp = DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    for i in range(30):
        RoutingRuleFactory(tenant=tenant, code=f"{500 + i}")
    body = op_client.get(reverse("dialpeers:dialpeer_list"), {"rule": dp.rule_id}).content
    select = re.search(r'<select name="rule".*?</select>', body.decode(), re.S).group(0)
    assert len(re.findall("<option", select)) == 2  # the empty option and the chosen rule


def test_list_sorts_by_rule_code(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    for name, code in (("x", "44"), ("y", "1"), ("z", "374")):
        DialpeerFactory(
            trunk=trunk,
            customer=trunk.customer,
            tenant=tenant,
            name=name,
            rule__tenant=tenant,
            rule__code=code,
        )
    assert list_names(op_client, sort="rule") == ["y", "z", "x"]
    assert list_names(op_client, sort="-rule") == ["x", "z", "y"]


def test_list_paginates(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    for i in range(30):
        DialpeerFactory(
            trunk=trunk,
            customer=trunk.customer,
            tenant=tenant,
            name=f"dp{i:02}",
            rule__tenant=tenant,
            rule__code=f"{100 + i}",
        )
    assert len(list_names(op_client)) == 25
    assert list_names(op_client, page=2) == [f"dp{i}" for i in range(25, 30)]


def test_htmx_list_request_returns_only_the_table(op_client, tenant):
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant, name="Only")
    response = op_client.get(reverse("dialpeers:dialpeer_list"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Only" in body
    assert "<html" not in body and "filter-form" not in body


# the add form ------------------------------------------------------------------------------
def test_add_form_has_the_manuals_fields_in_order_with_their_labels(op_client, tenant):
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    labels = re.findall(r"<label[^>]*for=\"id_(\w+)\"[^>]*>\s*([^<*]+?)\s*(?:<|\*)", body)
    assert labels == [
        ("name", "Display name"),
        ("customer", "Origin customer (retail)"),
        ("trunk", "SIP trunk (ingress)"),
        ("rule", "Routing rule"),
    ]
    assert re.search(r'<button type="submit" class="btn btn-primary">Create</button>', body)


def test_trunk_select_is_empty_until_a_customer_is_picked(op_client, tenant):
    TrunkFactory(customer__tenant=tenant)
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    select = re.search(r'<select name="trunk".*?</select>', body, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == [""]
    # It follows the customer field: its options come from the customer's trunks.
    assert 'data-url="/customers/options/trunks/?by_customer=1"' in select
    assert 'data-include="customer"' in select and 'data-reload-on="customer"' in select
    assert 'data-pick-single="1"' in select


def test_add_form_query_count_does_not_depend_on_how_much_data_exists(op_client, tenant):
    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert op_client.get(reverse("dialpeers:dialpeer_add")).status_code == 200
        return len(queries)

    TrunkFactory(customer__tenant=tenant)
    RoutingTargetFactory(rule__tenant=tenant)
    small = measure()
    for i in range(20):
        trunk = TrunkFactory(customer__tenant=tenant)
        RoutingTargetFactory(rule__tenant=tenant, rule__code=f"{600 + i}", rule__trunk=trunk)
    big = measure()
    assert small == big
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    assert body.count("<option") == 3  # one empty option per select


def test_a_failed_post_re_renders_with_the_chosen_customers_trunks(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant, name="acme-a")
    TrunkFactory(customer=trunk.customer, name="acme-b")
    other = TrunkFactory(customer__tenant=tenant, name="beta-a")
    rule = RoutingRuleFactory(tenant=tenant)
    response = op_client.post(
        reverse("dialpeers:dialpeer_add"), dialpeer_data(trunk, rule, name="")
    )
    assert "name" in form_errors(response)
    select = re.search(r'<select name="trunk".*?</select>', response.content.decode(), re.S)
    options = re.findall(r'<option value="(\d+)"( selected)?>([^<]*)', select.group(0))
    assert [(pk, sel) for pk, sel, _ in options] == [(str(trunk.pk), " selected")]
    # The options it offers (loaded with the chosen customer) are that customer's trunks.
    offered = op_client.get(
        reverse("customers:trunk_options"),
        {"by_customer": "1", "customer": trunk.customer_id, "trunk": trunk.pk},
    ).content.decode()
    assert "acme-a" in offered and "acme-b" in offered and other.name not in offered
    # and the chosen customer and rule stay chosen
    body = response.content.decode()
    assert f'<option value="{rule.pk}" selected>' in body
    assert f'<option value="{trunk.customer_id}" selected>' in body


def test_operator_creates_an_active_dialpeer(op_client, operator, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    response = op_client.post(
        reverse("dialpeers:dialpeer_add"), dialpeer_data(trunk, rule, name="Acme → Armenia")
    )
    assert response.status_code == 302
    dp = Dialpeer.objects.get(name="Acme → Armenia")
    assert (dp.tenant, dp.customer, dp.trunk, dp.rule, dp.is_active) == (
        tenant,
        trunk.customer,
        trunk,
        rule,
        True,
    )
    assert dp.history.first().history_user == operator


def test_edit_changes_every_field_including_active(op_client, tenant):
    dp = DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant, rule__code="374")
    trunk = TrunkFactory(customer__tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant, code="39", trunk=trunk)
    response = op_client.post(
        reverse("dialpeers:dialpeer_edit", args=[dp.pk]), dialpeer_data(trunk, rule, name="renamed")
    )
    assert response.status_code == 302
    dp.refresh_from_db()
    assert (dp.name, dp.customer, dp.trunk, dp.rule, dp.is_active) == (
        "renamed",
        trunk.customer,
        trunk,
        rule,
        False,
    )
    op_client.post(
        reverse("dialpeers:dialpeer_edit", args=[dp.pk]),
        dialpeer_data(trunk, rule, name="renamed", is_active="on"),
    )
    dp.refresh_from_db()
    assert dp.is_active


def test_edit_form_shows_the_current_customers_trunks(op_client, tenant):
    dp = DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    sibling = TrunkFactory(customer=dp.customer)
    stranger = TrunkFactory(customer__tenant=tenant)
    body = op_client.get(reverse("dialpeers:dialpeer_edit", args=[dp.pk])).content.decode()
    select = re.search(r'<select name="trunk".*?</select>', body, re.S).group(0)
    assert f'<option value="{dp.trunk_id}" selected>' in select
    assert f'value="{stranger.pk}"' not in select
    offered = op_client.get(
        reverse("customers:trunk_options"), {"by_customer": "1", "customer": dp.customer_id}
    ).content.decode()
    assert f'value="{sibling.pk}"' in offered and f'value="{stranger.pk}"' not in offered


def test_remove_deletes_only_the_dialpeer(op_client, tenant):
    dp = DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    page = op_client.get(reverse("dialpeers:dialpeer_delete", args=[dp.pk])).content.decode()
    assert "deletes only the dialpeer row" in page
    response = op_client.post(reverse("dialpeers:dialpeer_delete", args=[dp.pk]))
    assert response.status_code == 302
    assert not Dialpeer.objects.filter(pk=dp.pk).exists()
    for row in (dp.customer, dp.trunk, dp.rule):
        row.refresh_from_db()  # still there


def test_detail_has_a_history_tab_naming_who_created_and_deactivated(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant)
    op_client.post(reverse("dialpeers:dialpeer_add"), dialpeer_data(trunk, rule, name="H"))
    dp = Dialpeer.objects.get(name="H")
    op_client.post(
        reverse("dialpeers:dialpeer_edit", args=[dp.pk]), dialpeer_data(trunk, rule, name="H")
    )
    body = op_client.get(reverse("dialpeers:dialpeer_detail", args=[dp.pk])).content.decode()
    assert 'data-testid="history"' in body
    assert body.count("op-a") >= 2
    assert "created" in body and "changed" in body
    assert re.search(r"Active</span>:.*yes.*→\s*no", body, re.S)


# prerequisites -----------------------------------------------------------------------------
def test_add_page_says_what_to_create_first_when_nothing_exists(op_client, tenant):
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    assert 'data-testid="prerequisites"' in body
    assert "no customer with a trunk" in body
    assert "no routing rule with targets" in body
    for name in ("customers:customer_add", "customers:trunk_add", "routing:routingrule_add"):
        assert f'href="{reverse(name)}"' in body


def test_add_page_says_nothing_when_a_trunk_and_a_rule_with_targets_exist(op_client, tenant):
    TrunkFactory(customer__tenant=tenant)
    RoutingTargetFactory(rule__tenant=tenant)
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    assert 'data-testid="prerequisites"' not in body


def test_another_tenants_trunks_and_rules_do_not_count_as_prerequisites(
    op_client, tenant, other_tenant
):
    TrunkFactory(customer__tenant=other_tenant)
    RoutingTargetFactory(rule__tenant=other_tenant)
    body = op_client.get(reverse("dialpeers:dialpeer_add")).content.decode()
    assert "no customer with a trunk" in body and "no routing rule with targets" in body


@pytest.mark.parametrize("page", ["abc", "\x00", "0", "-1", "99999", "9" * 30])
def test_odd_page_numbers_never_fail(op_client, tenant, page):
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    assert op_client.get(reverse("dialpeers:dialpeer_list"), {"page": page}).status_code == 200


def test_the_list_counts_its_rows_once(op_client, tenant):
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    with CaptureQueriesContext(connection) as queries:
        op_client.get(reverse("dialpeers:dialpeer_list"))
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert len(counts) == 1, counts


@pytest.mark.parametrize("who", ["op_client", "viewer_client"])
def test_every_row_has_one_cell_per_header(request, tenant, who):
    client = request.getfixturevalue(who)
    DialpeerFactory(trunk__customer__tenant=tenant, rule__tenant=tenant)
    body = client.get(reverse("dialpeers:dialpeer_list")).content.decode()
    table = re.search(r"<table.*?</table>", body, re.S).group(0)
    headers = len(re.findall(r"<th[ >]", table))
    row = re.search(r"<tr data-pk=.*?</tr>", table, re.S).group(0)
    cells = len(re.findall(r"<td[ >]", row))
    assert headers == cells == (7 if who == "op_client" else 5)
