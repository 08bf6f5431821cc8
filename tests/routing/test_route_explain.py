"""Explain = live + trace (SPEC §5 "One code path"): an explained decision is the decision
live traffic gets for the same input and time, made by the same function over the same
index; the explanation only records it. Also: the test-call page names the step that
decided and never claims no rule is linked when the decision stopped before step 6."""

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from dialpeers.models import Dialpeer
from routing.engine import index, round_robin, route_call
from routing.models import RoutingRule, VMGateClient
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RateFactory,
    RatePlanFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db

CODES = ["", "3", "37", "374", "3741", "39", "4", "44", "441", "7"]
AT = datetime(2026, 6, 1, tzinfo=UTC)


def build_world(tenant, rng):
    """A seeded random world: customers of every billing state, trunks with overlapping
    networks and tech prefixes, rules of both assignments and every scope, dialpeers
    active and not, targets of the three kinds over clients in every status, rates."""
    plan = RatePlanFactory(tenant=tenant)
    for code in ("37", "374", "44", "3"):
        RateFactory(rate_plan=plan, code=code, rate_per_min=Decimal(rng.randint(1, 90)) / 100)
    customers = [
        CustomerFactory(tenant=tenant, balance=Decimal("100")),
        CustomerFactory(tenant=tenant, balance=Decimal("5")),
        CustomerFactory(tenant=tenant, balance=Decimal("0")),  # prepaid at 0: step 5
        CustomerFactory(
            tenant=tenant, billing_type=Customer.POSTPAID, balance=Decimal("-5"), credit_limit=10
        ),
        CustomerFactory(tenant=tenant, status=Customer.BLOCKED),
    ]
    trunks = []
    shapes = [  # tech prefix, customer, with the plan, status
        ("9", 0, True, "active"),
        ("99", 1, False, "active"),
        ("8", 2, True, "active"),
        ("", 3, True, "active"),
        ("77", 4, False, "active"),
        ("91", 0, True, "disabled"),
    ]
    for i, (prefix, cust, billed, status) in enumerate(shapes):
        trunk = TrunkFactory(
            customer=customers[cust],
            tech_prefix=prefix,
            rate_plan=plan if billed else None,
            status=status,
        )
        TrunkNetworkFactory(trunk=trunk, network=f"203.0.113.{i * 16}/28")
        TrunkNetworkFactory(trunk=trunk, network="198.51.100.0/24")
        trunks.append(trunk)
    networks = [NetworkFactory(tenant=tenant) for _ in range(3)]
    clients = []
    for i in range(9):
        status = rng.choice(["ready", "ready", "ready", "off", "no_dongle"])
        clients.append(
            VMGateClientFactory(
                network=networks[i % 3], status=status, active_calls=rng.randint(0, 3)
            )
        )
    slots = [SimSlotFactory(client=c, position=1, enabled=rng.random() < 0.8) for c in clients]
    active_links = set()
    for code in CODES:
        for _ in range(2):
            rule = RoutingRuleFactory(
                tenant=tenant,
                code=code,
                is_active=rng.random() < 0.85,
                assignment=rng.choice([RoutingRule.WEIGHT, RoutingRule.PRIORITY]),
                trunk=rng.choice([None, None, None, rng.choice(trunks)]),
            )
            for _ in range(rng.randint(0, 4)):
                kind = rng.choice(["client", "client", "network", "slot"])
                kw = {"priority": rng.randint(0, 2), "weight": rng.randint(1, 5)}
                kw["is_active"] = rng.random() < 0.9
                if kind == "client":
                    RoutingTargetFactory(rule=rule, client=rng.choice(clients), **kw)
                elif kind == "network":
                    RoutingTargetFactory(rule=rule, client=None, network=rng.choice(networks), **kw)
                else:
                    RoutingTargetFactory(rule=rule, client=None, sim_slot=rng.choice(slots), **kw)
            for trunk in rng.sample(trunks, rng.randint(0, 3)):
                # the database holds one active dialpeer per code per trunk
                active = rng.random() < 0.85 and (trunk.pk, code) not in active_links
                if active:
                    active_links.add((trunk.pk, code))
                DialpeerFactory(trunk=trunk, rule=rule, is_active=active)
    return trunks


def random_call(rng, trunks):
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 9)))
    number = rng.choice(CODES) + digits
    trunk = rng.choice(trunks)
    prefix = rng.choice([trunk.tech_prefix, trunk.tech_prefix, "", "9", "+"])
    raw = rng.choice([prefix + number, prefix + number, prefix + "+" + number, prefix + "x1"])
    if rng.random() < 0.3:
        ip = rng.choice(["203.0.113.1", "203.0.113.17", "198.51.100.7", "192.0.2.1", "::1"])
        return {"source_ip": ip, "called_number": raw}
    return {"trunk": trunk, "called_number": raw}


def essence(d):
    """What both decisions must agree on: rule, dialpeer, targets in order, rate, reason."""
    return (
        d.outcome,
        d.reason,
        d.sip_code,
        d.trunk and d.trunk.id,
        d.rule and d.rule.id,
        d.dialpeer and d.dialpeer.id,
        [(t.client.id, t.sim_slot and t.sim_slot.id, t.target_id) for t in d.targets],
        d.rate and d.rate.id,
        d.unbilled,
    )


def test_500_random_calls_explained_then_made_live_agree(tenant):
    rng = random.Random(20261130)
    trunks = build_world(tenant, rng)
    round_robin.reset()
    seen = set()
    for _ in range(500):
        call = random_call(rng, trunks)
        explained = route_call(tenant, at=AT, explain=True, **call)
        live = route_call(tenant, at=AT, **call)  # the next live decision: same rotation
        assert essence(explained) == essence(live), call
        assert explained.steps and not live.steps and not live.candidates
        seen.add(live.reason)
    # the world exercises every step's rejection, and routing
    assert seen >= {
        "routed",
        "unknown_source",
        "invalid_number",
        "tech_prefix_mismatch",
        "trunk_disabled",
        "customer_blocked",
        "insufficient_balance",
        "no_route",
        "no_target",
        "no_rate",
    }


def test_an_explanation_asks_the_database_nothing_the_decision_needs(tenant):
    """Once the names it shows are loaded, explaining a call runs no query: every
    decision input comes from the index, as for live calls."""
    rng = random.Random(7)
    trunks = build_world(tenant, rng)
    calls = [random_call(rng, trunks) for _ in range(60)]
    for call in calls:
        route_call(tenant, at=AT, explain=True, **call)
    with CaptureQueriesContext(connection) as queries:
        for call in calls:
            route_call(tenant, at=AT, explain=True, **call)
    # Inside the test's open transaction every call polls the change feed (its own rows
    # are tentative): nothing else is asked.
    decision_queries = [
        q["sql"] for q in queries.captured_queries if "routing_routechange" not in q["sql"]
    ]
    assert decision_queries == []
    assert index.get_index(tenant.pk).routes  # …and the links did come from the index


def test_a_first_explanation_reads_the_candidates_names_from_the_index(tenant):
    """The names an explanation shows travel with the links: after the live decisions, the
    first explanation of each call asks nothing of the database (the 1M-dialpeer
    benchmark's first-explanation p99), and a rename shows in the next one."""
    rng = random.Random(11)
    trunks = build_world(tenant, rng)
    calls = [random_call(rng, trunks) for _ in range(60)]
    for call in calls:
        route_call(tenant, at=AT, **call)  # live: loads each route's targets once
    with CaptureQueriesContext(connection) as queries:
        explained = [route_call(tenant, at=AT, explain=True, **call) for call in calls]
    asked = [q["sql"] for q in queries.captured_queries if "routing_routechange" not in q["sql"]]
    assert asked == []
    listed = [c for d in explained for c in d.candidates]
    assert listed and all(not c.dialpeer.name.startswith("#") for c in listed)

    candidate = listed[0]
    dp = Dialpeer.objects.get(pk=candidate.dialpeer.id)
    dp.name = "renamed a moment ago"
    dp.save()
    RoutingRule.objects.filter(pk=candidate.rule.id).update(label="Relabelled")
    again = route_call(
        tenant,
        at=AT,
        explain=True,
        **calls[explained.index(next(d for d in explained if candidate in d.candidates))],
    )
    names = {c.dialpeer.id: (c.dialpeer.name, c.rule.label) for c in again.candidates}
    assert names[candidate.dialpeer.id] == ("renamed a moment ago", "Relabelled")


def test_explain_never_advances_the_rotation_and_live_does(tenant):
    customer = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=customer, tech_prefix="9")
    rule = RoutingRuleFactory(tenant=tenant, code="374", assignment=RoutingRule.PRIORITY)
    net = NetworkFactory(tenant=tenant)
    a, b, c = (VMGateClientFactory(network=net) for _ in range(3))
    for client in (a, b, c):
        RoutingTargetFactory(rule=rule, client=client, priority=1)
    DialpeerFactory(trunk=trunk, rule=rule)
    round_robin.reset()

    def order(explain):
        d = route_call(tenant, called_number="937412", trunk=trunk, explain=explain)
        return [t.client.id for t in d.targets]

    assert [order(True) for _ in range(3)] == [[a.id, b.id, c.id]] * 3
    assert order(False) == [a.id, b.id, c.id]
    assert order(True) == order(False) == [b.id, c.id, a.id]
    VMGateClient.objects.filter(pk=b.pk).update(status="off")
    assert order(True) == order(False)


# --- the test-call page: which step decided ---------------------------------------------------


URL = reverse("routing:test_call")


def test_a_prepaid_customer_at_zero_is_rejected_by_step_5_and_the_page_says_so(op_client, tenant):
    """Issue 12: the page said "No rule is linked to this trunk by a dialpeer" although a
    rule was linked; the decision had stopped at the balance step."""
    customer = CustomerFactory(tenant=tenant, balance=Decimal("0"), name="Prepaid Zero")
    trunk = TrunkFactory(customer=customer, tech_prefix="9")
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    RoutingTargetFactory(rule=rule, client=VMGateClientFactory(network__tenant=tenant))
    DialpeerFactory(trunk=trunk, rule=rule)
    page = op_client.get(
        URL, {"customer": customer.pk, "trunk": trunk.pk, "called_number": "937412345"}
    )
    html = page.content.decode()
    assert "Rejected: insufficient balance → 402" in html
    assert "No rule is linked" not in html
    assert 'data-testid="decided-by"' in html and "5. Balance" in html
    assert "prepaid, balance 0.00" in html
    assert "Candidate rules were not looked at: the decision stopped at step 5. Balance" in html
    # with money the same call routes through the linked rule
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("1"))
    html = op_client.get(
        URL, {"customer": customer.pk, "trunk": trunk.pk, "called_number": "937412345"}
    ).content.decode()
    assert "Routed → 302" in html and 'data-testid="decided-by"' not in html


def test_a_trunk_with_no_linked_rule_says_so_after_step_6(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=customer, tech_prefix="9")
    html = op_client.get(
        URL, {"customer": customer.pk, "trunk": trunk.pk, "called_number": "937412345"}
    ).content.decode()
    assert "Rejected: no route → 404" in html
    assert "No rule is linked to this trunk by a dialpeer." in html
    assert "7. Longest code" in html
