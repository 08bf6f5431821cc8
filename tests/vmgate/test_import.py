"""Bulk import (SPEC §8): every kind's export imports back as a no-op; the modes add, update
and replace; rows go through the page's own form (an import refuses what the form refuses,
with its message); all or nothing; tenancy; the routing checks an import would change."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer, Rate, Trunk, TrunkNetwork
from dialpeers.models import Dialpeer
from routing.models import Network, RoutingRule, SimSlot, VMGateClient
from tests import factories as f
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db

# kind → (list URL name, model) whose export the kind reads
EXPORTS = {
    "customers": "customers:customer_list",
    "trunks": "customers:trunk_list",
    "rates": "customers:rate_list",
    "networks": "routing:network_list",
    "clients": "routing:vmgateclient_list",
    "rules": "routing:routingrule_list",
    "dialpeers": "dialpeers:dialpeer_list",
}


def csv_bytes(rows, delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerows(rows)
    return out.getvalue().encode()


def export(client, url):
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def world(tenant):
    """A bit of every kind, with the awkward cases: a scoped rule, a trunk with two
    networks, a client with slots, a prepaid and a postpaid customer."""
    w = f.build_route_world(tenant)
    f.CustomerFactory(
        tenant=tenant, name="Post", billing_type=Customer.POSTPAID, credit_limit=Decimal("50")
    )
    TrunkNetwork.objects.create(trunk=w["trunk"], network="198.51.100.7/32")
    SimSlot.objects.create(client=w["gw_a"], position=1, label="=SUM(A1)")
    SimSlot.objects.create(client=w["gw_a"], position=2, enabled=False)
    scoped = f.RoutingRuleFactory(tenant=tenant, code="37491", trunk=w["trunk"])
    f.DialpeerFactory(trunk=w["trunk"], customer=w["customer"], rule=scoped, name="=cmd")
    f.RoutingRuleFactory(tenant=tenant, code="", label="Anything")
    return w


def snapshot(tenant):
    """Every row the import kinds write, as plain values (ids included: a no-op keeps them)."""
    return {
        "customers": list(Customer.objects.filter(tenant=tenant).order_by("pk").values()),
        "trunks": list(Trunk.objects.filter(tenant=tenant).order_by("pk").values()),
        "networks": list(TrunkNetwork.objects.filter(trunk__tenant=tenant).order_by("pk").values()),
        "rates": list(Rate.objects.filter(rate_plan__tenant=tenant).order_by("pk").values()),
        "gsm": list(Network.objects.filter(tenant=tenant).order_by("pk").values()),
        "clients": list(VMGateClient.objects.filter(tenant=tenant).order_by("pk").values()),
        "slots": list(SimSlot.objects.filter(client__tenant=tenant).order_by("pk").values()),
        "rules": list(RoutingRule.objects.filter(tenant=tenant).order_by("pk").values()),
        "dialpeers": list(Dialpeer.objects.filter(tenant=tenant).order_by("pk").values()),
    }


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_export_then_import_changes_nothing(kind, op_client, tenant, operator):
    w = world(tenant)
    args = [w["plan"].pk] if kind == "rates" else []
    data = export(op_client, reverse(EXPORTS[kind], args=args))
    before = snapshot(tenant)
    result = run_import(
        tenant, KINDS[kind], f"{kind}.csv", data, rate_plan=w["plan"], apply=True, user=operator
    )
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["create"] == result.counts["update"] == result.counts["delete"] == 0
    assert result.counts["unchanged"] >= 1
    assert snapshot(tenant) == before
    # replace with the whole export deletes nothing either
    result = run_import(
        tenant, KINDS[kind], f"{kind}.csv", data, mode="replace", rate_plan=w["plan"], apply=True
    )
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["delete"] == 0
    assert snapshot(tenant) == before


def test_rates_modes_and_the_change_log_entry(tenant, operator):
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    f.RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    f.RateFactory(rate_plan=plan, code="375", rate_per_min=Decimal("0.2"))
    since = "2026-01-01T00:00:00+00:00"
    deck = csv_bytes(
        [
            ["code", "rate_per_min", "valid_since"],
            ["374", "0.15", since],
            ["0093", "0.3", since],
        ]
    )
    kind = KINDS["rates"]
    preview = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan)
    assert preview.ok and not preview.applied
    assert preview.counts == {"create": 1, "update": 1, "delete": 0, "unchanged": 0}
    assert Rate.objects.filter(rate_plan=plan).count() == 2  # a preview writes nothing
    change = preview.rows["update"][0]
    assert change.changes == [("rate_per_min", "0.100000", "0.15")]

    added = run_import(tenant, kind, "deck.csv", deck, mode="add", rate_plan=plan)
    assert not added.ok
    assert added.errors == [
        (
            2,
            "code",
            "Rate 374 from 2026-01-01T00:00:00+00:00 already exists (mode add creates only).",
        )
    ]

    applied = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan, apply=True, user=operator)
    assert applied.applied
    rates = {r.code: r for r in Rate.objects.filter(rate_plan=plan)}
    assert rates["374"].rate_per_min == Decimal("0.15")
    assert rates["0093"].rate_per_min == Decimal("0.3")  # leading zeros kept
    assert rates["374"].description == "Armenia"  # an empty description: the dialplan's
    run = ImportRun.objects.get(tenant=tenant)
    assert run.summary == "Imported deck.csv: 1 created, 1 updated"
    assert run.user == operator

    again = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan, apply=True)
    assert again.counts == {"create": 0, "update": 0, "delete": 0, "unchanged": 2}

    replaced = run_import(
        tenant, kind, "deck.csv", deck, mode="replace", rate_plan=plan, apply=True
    )
    assert replaced.counts["delete"] == 1
    assert sorted(Rate.objects.filter(rate_plan=plan).values_list("code", flat=True)) == [
        "0093",
        "374",
    ]
    assert Rate.history.filter(code="375", history_type="-").exists()


def test_an_error_on_the_last_row_writes_nothing(tenant):
    data = csv_bytes(
        [["name", "country", "billing_type"]]
        + [[f"Carrier {i}", "AM", "prepaid"] for i in range(20)]
        + [["Broken", "XX", "prepaid"]]
    )
    result = run_import(tenant, KINDS["customers"], "c.csv", data, apply=True)
    assert not result.ok and not result.applied
    assert [(line, column) for line, column, _ in result.errors] == [(22, "country")]
    assert "Select a valid choice" in result.errors[0][2]  # the form's own message
    assert not Customer.objects.filter(tenant=tenant).exists()
    assert not ImportRun.objects.exists()


def test_a_name_of_another_tenant_is_not_found(tenant, other_tenant):
    f.CustomerFactory(tenant=other_tenant, name="Theirs")
    data = csv_bytes([["customer", "name", "networks"], ["Theirs", "in", "192.0.2.1"]])
    result = run_import(tenant, KINDS["trunks"], "t.csv", data, apply=True)
    assert result.errors == [(2, "customer", "Customer “Theirs” not found.")]
    assert not Trunk.objects.exists()


def test_a_deactivated_rule_names_the_check_that_stops_routing(tenant):
    w = f.build_route_world(tenant)
    check = f.RoutingCheckFactory(
        trunk=w["trunk"],
        name="Armenia mobile",
        called_number="9937412345",
        expected_outcome="routed",
    )
    f.RoutingCheckFactory(
        trunk=w["trunk"], name="Unrelated", called_number="994411", expected_outcome="rejected"
    )
    data = csv_bytes([["code", "trunk", "is_active"], ["374", "", "false"]])
    result = run_import(tenant, KINDS["rules"], "rules.csv", data)
    assert result.ok, result.errors
    assert result.counts["update"] == 1
    [changed] = result.check_changes
    assert (changed.check_id, changed.name) == (check.pk, "Armenia mobile")
    assert changed.before.startswith("routed via 374")
    assert changed.after.startswith("rejected")
    assert changed.passed_before and not changed.passed_after
    assert RoutingRule.objects.get(pk=w["rule"].pk).is_active  # a preview
