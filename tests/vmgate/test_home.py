"""The home page answers "is my routing healthy?": counts that link to their lists, and
each attention item linking to a filtered list that shows exactly its rows."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.models import VMGateClient
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    RoutingCheckFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TrunkFactory,
    VMGateClientFactory,
    build_route_world,
)

pytestmark = pytest.mark.django_db


def build_trouble(tenant):
    """A healthy route world plus one row of each kind of trouble (and near misses that
    must not be counted)."""
    w = build_route_world(tenant)
    trunk, customer = w["trunk"], w["customer"]
    network = w["gw_a"].network
    # Rules: active with an active dialpeer and no target; one whose only target is off.
    w["rule_empty"] = RoutingRuleFactory(tenant=tenant, code="375")
    DialpeerFactory(trunk=trunk, customer=customer, rule=w["rule_empty"], tenant=tenant)
    w["gw_off"] = VMGateClientFactory(network=network, name="gw-off", status=VMGateClient.OFF)
    w["rule_off"] = RoutingRuleFactory(tenant=tenant, code="376")
    RoutingTargetFactory(rule=w["rule_off"], client=w["gw_off"])
    DialpeerFactory(trunk=trunk, customer=customer, rule=w["rule_off"], tenant=tenant)
    # Near misses: no traffic but only an inactive dialpeer; a down client that is one of
    # two targets; a down client reached only through its SIM slot, alone on its rule.
    quiet = RoutingRuleFactory(tenant=tenant, code="377")
    DialpeerFactory(trunk=trunk, customer=customer, rule=quiet, tenant=tenant, is_active=False)
    gw_nd = VMGateClientFactory(network=network, name="gw-nodongle", status="no_dongle")
    RoutingTargetFactory(rule=w["rule"], client=gw_nd)
    w["gw_slot"] = VMGateClientFactory(network=network, name="gw-slot", status="no_dongle")
    slot = SimSlotFactory(client=w["gw_slot"], position=1)
    w["rule_slot"] = RoutingRuleFactory(tenant=tenant, code="378")
    RoutingTargetFactory(rule=w["rule_slot"], client=None, sim_slot=slot)
    # Trunks: one with no dialpeer, one with only an inactive one; a disabled one is fine.
    w["trunk_bare"] = TrunkFactory(customer=customer, name="bare", tech_prefix="11")
    w["trunk_idle"] = TrunkFactory(customer=customer, name="idle", tech_prefix="12")
    DialpeerFactory(
        trunk=w["trunk_idle"], customer=customer, rule=w["rule"], tenant=tenant, is_active=False
    )
    TrunkFactory(customer=customer, name="off", tech_prefix="13", status="disabled")
    # Checks: one failing, one passing, one never run.
    w["check_bad"] = RoutingCheckFactory(trunk=trunk, tenant=tenant, name="bad", last_passed=False)
    RoutingCheckFactory(trunk=trunk, tenant=tenant, name="good", last_passed=True)
    RoutingCheckFactory(trunk=trunk, tenant=tenant, name="new", last_passed=None)
    # Customers: prepaid at 0, blocked, postpaid without credit; postpaid with credit is fine.
    w["broke"] = CustomerFactory(tenant=tenant, name="Broke", balance=Decimal("0"))
    w["blocked"] = CustomerFactory(tenant=tenant, name="Blocked", status="blocked")
    w["owing"] = CustomerFactory(
        tenant=tenant, name="Owing", billing_type="postpaid", balance=Decimal("-5")
    )
    CustomerFactory(
        tenant=tenant,
        name="Credit",
        billing_type="postpaid",
        balance=Decimal("-5"),
        credit_limit=Decimal("10"),
    )
    return w


def _attention_link(body, key):
    card = body.split(f'data-testid="attention-{key}"', 1)[1].split('class="card border', 1)[0]
    count = int(re.search(r'data-testid="attention-count">(\d+)<', card).group(1))
    url = re.search(r'href="([^"]+)"', card).group(1).replace("&amp;", "&")
    return count, url


def _linked_paths(body, prefix):
    table = body.split('id="object-table"', 1)[1]
    return set(re.findall(rf'href="({re.escape(prefix)}\d+/)"', table))


def test_a_healthy_tenant_sees_nothing_to_fix(op_client, tenant):
    build_route_world(tenant)
    body = op_client.get("/").content.decode()
    assert 'data-testid="all-healthy"' in body
    assert "attention-rules" not in body


@pytest.mark.parametrize(
    "key, prefix, expected",
    [
        ("rules", "/routing/rules/", ["rule_empty", "rule_off"]),
        ("trunks", "/customers/trunks/", ["trunk_bare", "trunk_idle"]),
        ("clients", "/routing/clients/", ["gw_off", "gw_slot"]),
        ("customers", "/customers/", ["broke", "blocked", "owing"]),
    ],
)
def test_each_attention_item_links_to_a_list_of_exactly_its_rows(
    op_client, tenant, key, prefix, expected
):
    w = build_trouble(tenant)
    body = op_client.get("/").content.decode()
    count, url = _attention_link(body, key)
    assert count == len(expected)
    listed = _linked_paths(op_client.get(url).content.decode(), prefix)
    if key == "customers":  # the list's rows also link their trunks (/customers/trunks/…)
        listed = {p for p in listed if "/trunks/" not in p}
    assert listed == {w[name].get_absolute_url() for name in expected}


def test_the_failing_checks_item_lists_exactly_the_failing_check(op_client, tenant):
    build_trouble(tenant)
    body = op_client.get("/").content.decode()
    count, url = _attention_link(body, "checks")
    assert count == 1
    table = op_client.get(url).content.decode().split('id="object-table"', 1)[1]
    names = re.findall(r"<td[^>]*>(bad|good|new)</td>", table)
    assert names == ["bad"]


def test_customers_that_cannot_take_calls_say_why(op_client, tenant):
    build_trouble(tenant)
    body = op_client.get("/").content.decode()
    card = body.split('data-testid="attention-customers"', 1)[1]
    assert re.search(r">Blocked</a> <span[^>]*>— [^<]*[Bb]locked", card)
    assert re.search(r">Broke</a> <span[^>]*>— [^<]*prepaid", card)


def test_the_customer_total_is_the_sum_of_balances_in_the_tenant_currency(op_client, tenant):
    CustomerFactory(tenant=tenant, balance=Decimal("100"))
    CustomerFactory(tenant=tenant, balance=Decimal("-30.5"))
    body = op_client.get("/").content.decode()
    card = body.split('data-testid="customer-total"', 1)[1]
    assert re.search(r">69\.50 USD<", card), card[:400]


def test_every_count_links_to_its_list(op_client, tenant):
    build_route_world(tenant)
    body = op_client.get("/").content.decode()
    for testid, url in [
        ("count-customers", "/customers/"),
        ("count-trunks", "/customers/trunks/"),
        ("count-routing-rules", "/routing/rules/"),
        ("count-dialpeers", "/dialpeers/"),
    ]:
        assert f'href="{url}" data-testid="{testid.replace("count-", "count-link-")}"' in body


def test_the_samples_are_limited_and_the_rest_is_one_click_away(op_client, tenant):
    for _ in range(8):
        CustomerFactory(tenant=tenant, balance=Decimal("0"))
    body = op_client.get("/").content.decode()
    card = body.split('data-testid="attention-customers"', 1)[1].split("</ul>", 1)
    assert card[0].count("<li ") == 5
    card = card[1]
    assert "… and 3 more: see all 8" in card


def test_another_tenants_trouble_is_not_shown(op_client, tenant, other_tenant):
    build_route_world(tenant)
    build_trouble(other_tenant)
    body = op_client.get("/").content.decode()
    assert 'data-testid="all-healthy"' in body


def _home_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_home_page_costs_a_fixed_number_of_queries(op_client, tenant):
    build_trouble(tenant)
    small = _home_queries(op_client)
    for n in range(12):  # more of every kind of trouble, past the sample size
        build_trouble_more(tenant, n)
    assert _home_queries(op_client) == small
    assert small <= 20


def build_trouble_more(tenant, n):
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"))
    trunk = TrunkFactory(customer=customer, tech_prefix=f"5{n:02d}")
    rule = RoutingRuleFactory(tenant=tenant, code=f"49{n:02d}")
    DialpeerFactory(trunk=trunk, customer=customer, rule=rule, tenant=tenant)
    RoutingTargetFactory(rule=rule, client__status=VMGateClient.OFF)
    RoutingCheckFactory(trunk=trunk, tenant=tenant, last_passed=False)
    TrunkFactory(customer=customer, tech_prefix=f"6{n:02d}")
