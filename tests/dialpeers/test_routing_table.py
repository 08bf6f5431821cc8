"""Trunk detail → Routing table: the trunk's codes, sorted, with targets and traffic state."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from routing.models import VMGateClient
from tests.factories import (
    DialpeerFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TrunkFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db


def rows(client, trunk):
    response = client.get(reverse("customers:trunk_detail", args=[trunk.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    section = re.search(r'data-testid="trunk-routing-table".*?</section>', body, re.S).group(0)
    found = []
    for row in re.findall(r'<tr data-testid="routing-row".*?</tr>', section, re.S):
        cells = [
            re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        found.append(cells)
    return found, section


def link(trunk, code, name, active=True, rule=None, **rule_kw):
    rule = rule or RoutingRuleFactory(tenant=trunk.tenant, code=code, **rule_kw)
    return DialpeerFactory(
        trunk=trunk,
        customer=trunk.customer,
        tenant=trunk.tenant,
        rule=rule,
        name=name,
        is_active=active,
    )


def test_routing_table_lists_the_trunks_codes_sorted_with_label_status_targets_and_traffic(
    op_client, tenant
):
    trunk = TrunkFactory(customer__tenant=tenant)
    network = NetworkFactory(tenant=tenant)
    ready = VMGateClientFactory(network=network)
    off = VMGateClientFactory(network=network, status=VMGateClient.OFF)

    italy = link(trunk, "39", "IT")
    RoutingTargetFactory(rule=italy.rule, client=ready)
    RoutingTargetFactory(rule=italy.rule, network=network, client=None)
    armenia = link(trunk, "374", "AM")
    RoutingTargetFactory(rule=armenia.rule, client=off)  # nothing ready: no traffic
    anything = link(trunk, "", "Any", rule=RoutingRuleFactory(tenant=tenant, code="", trunk=trunk))
    RoutingTargetFactory(rule=anything.rule, sim_slot=SimSlotFactory(client=ready), client=None)
    uk = link(trunk, "44", "UK", active=False)
    RoutingTargetFactory(rule=uk.rule, client=ready, is_active=False)
    TrunkFactory(customer=trunk.customer)  # another trunk's dialpeers are not shown
    DialpeerFactory(
        trunk__customer=trunk.customer, tenant=tenant, rule__tenant=tenant, name="elsewhere"
    )

    found, section = rows(op_client, trunk)
    assert [r[:3] for r in found] == [
        ["* (any)", "* (any) this trunk only", "Any"],
        ["374", "Armenia", "AM"],
        ["39", "Italy", "IT"],
        ["44", "United Kingdom", "UK"],
    ]
    assert [r[3] for r in found] == ["Active", "Active", "Active", "Inactive"]
    assert [r[4] for r in found] == [
        "1 SIM slot",
        "1 client",
        "1 client, 1 network",
        "1 client (1 inactive)",
    ]
    assert found[0][5] == "routes"
    assert found[1][5] == ("⚠ carries no traffic no active target reaches a ready VMGateClient")
    assert found[2][5] == "routes"
    assert found[3][5] == "⚠ carries no traffic dialpeer inactive"
    assert "elsewhere" not in section


def test_an_inactive_rule_carries_no_traffic(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    dp = link(trunk, "374", "AM", is_active=False)
    RoutingTargetFactory(rule=dp.rule)
    found, _ = rows(op_client, trunk)
    assert found[0][3] == "Active rule inactive"
    assert found[0][5] == "⚠ carries no traffic rule inactive"


def test_a_trunk_without_dialpeers_says_calls_are_rejected(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    found, section = rows(op_client, trunk)
    assert found == []
    assert "calls on it are rejected with no route" in section


def test_routing_table_query_count_does_not_grow_with_rows(op_client, tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    url = reverse("customers:trunk_detail", args=[trunk.pk])
    dp = link(trunk, "100", "first")
    RoutingTargetFactory(rule=dp.rule)
    with CaptureQueriesContext(connection) as one:
        op_client.get(url)
    for i in range(30):
        dp = link(trunk, f"{200 + i}", f"dp{i}")
        RoutingTargetFactory(rule=dp.rule)
    with CaptureQueriesContext(connection) as many:
        op_client.get(url)
    assert len(rows(op_client, trunk)[0]) == 31
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
