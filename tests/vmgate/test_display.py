"""One way to read things everywhere: two rules for the same code never read alike, money
in the change log reads as on the pages, removed rows keep their names, the customers
list states the billing type once."""

import re
from decimal import Decimal

import pytest

from tests.factories import (
    CustomerFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
)
from tests.vmgate.test_changelog import rows


def _url(obj):
    from django.urls import reverse

    from customers.models import Rate

    if isinstance(obj, Rate):  # no get_absolute_url on Rate
        return reverse("customers:rate_detail", args=[obj.pk])
    return obj.get_absolute_url()


pytestmark = pytest.mark.django_db


@pytest.fixture
def two_374s(tenant):
    trunk = TrunkFactory(customer=CustomerFactory(tenant=tenant, name="Carrier"), name="in-1")
    everywhere = RoutingRuleFactory(tenant=tenant, code="374", label="Armenia")
    scoped_rule = RoutingRuleFactory(tenant=tenant, code="374", label="Armenia", trunk=trunk)
    return everywhere, scoped_rule


def test_a_scoped_rule_names_its_trunk(two_374s):
    everywhere, scoped_rule = two_374s
    assert str(everywhere) == "374 — Armenia"
    assert str(scoped_rule) == "374 — Armenia (trunk Carrier / in-1)"


def test_two_rules_for_one_code_read_differently_in_the_list_and_the_change_log(
    op_client, tenant, two_374s
):
    from tests.factories import DialpeerFactory

    everywhere, scoped_rule = two_374s
    DialpeerFactory(trunk=scoped_rule.trunk, rule=scoped_rule, tenant=tenant, name="AM")
    listed = op_client.get("/dialpeers/").content.decode()
    assert "374 — Armenia (trunk Carrier / in-1)" in listed
    logged = [obj for kind, obj, _ in rows(op_client.get("/changes/")) if kind == "Routing rule"]
    assert sorted(logged) == ["374 — Armenia", "374 — Armenia (trunk Carrier / in-1)"]


def test_the_rule_options_of_filters_name_the_scope(op_client, two_374s):
    body = op_client.get("/routing/options/rules/?all=1&q=374").content.decode()
    assert "374 — Armenia (trunk Carrier / in-1)" in body


def test_the_change_log_shows_money_as_the_pages_do(op_client, tenant):
    customer = CustomerFactory(
        tenant=tenant, billing_type="postpaid", credit_limit=Decimal("0"), name="Acme"
    )
    customer.credit_limit = Decimal("100")
    customer.save()
    body = op_client.get("/changes/").content.decode()
    assert re.search(r"Credit line</span>: .*?0\.00 USD</span> → 100\.00 USD", body, re.S)
    assert "100.0000" not in body and "0.0000" not in body
    detail = op_client.get(customer.get_absolute_url()).content.decode()
    assert "100.00 USD" in detail.split('data-testid="history"', 1)[1]


def test_a_removed_network_keeps_its_name_in_history(op_client, tenant):
    network = NetworkFactory(tenant=tenant, name="Yerevan")
    target = RoutingTargetFactory(rule__tenant=tenant, network=network, client=None)
    pk = network.pk
    target.delete()
    network.delete()
    body = op_client.get("/changes/").content.decode()
    assert "Yerevan (deleted)" in body
    assert f"network #{pk}" not in body.lower() and f"#{pk}<" not in body


def test_the_customers_list_states_the_billing_type_once(op_client, tenant):
    CustomerFactory(tenant=tenant, name="Acme", billing_type="prepaid", balance=Decimal("12.5"))
    body = op_client.get("/customers/").content.decode()
    row = body.split('data-pk="', 1)[1].split("</tr>", 1)[0]
    assert row.lower().count("prepaid") == 1
    assert "12.50 USD" in row


def test_test_call_omits_the_author_of_a_change_no_login_made(op_client, tenant):
    from tests.factories import build_route_world

    w = build_route_world(tenant)  # made by factories: no history user
    body = op_client.get(
        f"/routing/test-call/?customer={w['customer'].pk}&trunk={w['trunk'].pk}"
        "&called_number=9937412345"
    ).content.decode()
    assert "last created" in body and "by unknown" not in body


@pytest.mark.parametrize("name", ["plan", "rate", "network", "gw_a", "rule", "dialpeer", "trunk"])
def test_history_is_a_tab_on_every_detail_page(op_client, tenant, name):
    from tests.vmgate.portal_world import build_portal_world

    w = build_portal_world(tenant)
    body = op_client.get(_url(w[name])).content.decode()
    assert 'data-bs-target="#tab-history"' in body and 'id="tab-history"' in body
    assert '<h2 class="h5 mt-4">History</h2>' not in body
