"""route_call against real PostgreSQL: one test per row of SPEC §5, the tie-breaks, the
manual's example, eligibility before ranking, explanations and the JSON form."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer, Trunk
from routing.engine import IngressError, round_robin, route_call
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
    build_route_world,
)

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)


class World:
    """A tenant with one customer, a trunk (tech prefix 9, 203.0.113.0/24) and a ready
    client; ``link(code)`` adds a rule with a target and a dialpeer on the trunk."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.customer = CustomerFactory(tenant=tenant, name="Carrier")
        self.trunk = TrunkFactory(customer=self.customer, tech_prefix="9", name="main")
        TrunkNetworkFactory(trunk=self.trunk, network="203.0.113.0/24")
        self.network = NetworkFactory(tenant=tenant, name="Yerevan")
        self.client = VMGateClientFactory(network=self.network, name="gw-a")

    def rule(self, code, **kw):
        rule = RoutingRuleFactory(tenant=self.tenant, code=code, **kw)
        RoutingTargetFactory(rule=rule, client=self.client)
        return rule

    def link(self, code, trunk=None, dp_active=True, scope=None, **rule_kw):
        rule = self.rule(code, trunk=scope, **rule_kw)
        dp = DialpeerFactory(trunk=trunk or self.trunk, rule=rule, is_active=dp_active)
        return rule, dp

    def call(self, number, **kw):
        kw.setdefault("trunk", self.trunk)
        return route_call(self.tenant, called_number=number, **kw)


@pytest.fixture
def world(tenant):
    round_robin.reset()
    return World(tenant)


# --- the manual's example --------------------------------------------------------------------


def test_manual_example_longest_prefix_then_no_route_then_catch_all(world):
    r374, _ = world.link("374")
    r39, _ = world.link("39")
    assert world.call("937412345").rule.id == r374.id
    assert world.call("93912345").rule.id == r39.id
    d = world.call("94412345")
    assert (d.outcome, d.reason, d.sip_code, d.sip_reason) == (
        "rejected",
        "no_route",
        404,
        "No Route",
    )
    catch_all, _ = world.link("")
    d = world.call("94412345")
    assert d.routed and d.rule.id == catch_all.id and d.sip_code == 302
    assert world.call("937412345").rule.id == r374.id


# --- one test per row of the §5 table --------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["9374 123", "9374-12", "9٣٧٤", "9３７４", "9374\x00", "", "9" + "1" * 40, "abc"]
)
def test_step1_invalid_raw_number_is_484(world, raw):
    world.link("374")
    d = world.call(raw)
    assert (d.reason, d.sip_code, d.sip_reason) == ("invalid_number", 484, "Address Incomplete")
    assert d.trunk is None and d.rule is None


@pytest.mark.parametrize("raw", ["9", "9+", "9" + "1" * 25, "9++374", "9374#", "9*374"])
def test_step1_invalid_after_stripping_the_tech_prefix_is_484(world, raw):
    world.link("374")
    d = world.call(raw)
    assert (d.reason, d.sip_code) == ("invalid_number", 484)


def test_plus_after_the_tech_prefix_is_allowed_and_dropped_for_matching(world):
    rule, _ = world.link("374")
    d = world.call("9+37412345")
    assert d.routed and d.rule.id == rule.id and d.number == "37412345"
    assert d.called_number == "9+37412345"


def test_step2_unknown_source_gets_no_sip_answer(world):
    world.link("374")
    d = world.call("937412345", trunk=None, source_ip="198.51.100.7")
    assert (d.reason, d.sip_code, d.trunk) == ("unknown_source", None, None)


def test_step2_source_ip_identifies_the_trunk_and_ipv4_mapped_ipv6_is_normalised(world):
    rule, _ = world.link("374")
    for ip in ("203.0.113.7", "::ffff:203.0.113.7"):
        d = world.call("937412345", trunk=None, source_ip=ip)
        assert d.routed and d.trunk.id == world.trunk.id and d.rule.id == rule.id


def test_step2_ipv6_networks_work(world):
    TrunkNetworkFactory(trunk=world.trunk, network="2001:db8::/32")
    world.link("374")
    assert world.call("937412345", trunk=None, source_ip="2001:db8::5").routed


def test_step2b_no_tech_prefix_of_the_matching_trunks_starts_the_number_is_404(world):
    world.link("374")
    d = world.call("537412345", trunk=None, source_ip="203.0.113.7")
    assert (d.reason, d.sip_code) == ("tech_prefix_mismatch", 404)


def test_step2b_longest_tech_prefix_wins(world):
    other = TrunkFactory(customer=world.customer, tech_prefix="99", name="long")
    TrunkNetworkFactory(trunk=other, network="10.1.0.0/16")
    TrunkNetworkFactory(trunk=world.trunk, network="10.1.2.0/24")
    world.link("374", trunk=other)
    d = world.call("9937412345", trunk=None, source_ip="10.1.2.3")
    assert d.trunk.id == other.id and d.number == "37412345"


def test_step2b_the_longest_tech_prefix_beats_a_more_specific_network(world):
    # Overlapping networks never share a tech prefix (an exclusion constraint on
    # PostgreSQL), so the later tie-breaks (most specific network, lowest id) are pinned by
    # the pure core's test (tests/routing/test_engine_core.py).
    a = TrunkFactory(customer=world.customer, tech_prefix="77", name="a")
    b = TrunkFactory(customer=world.customer, tech_prefix="7", name="b")
    TrunkNetworkFactory(trunk=a, network="10.2.0.0/16")
    TrunkNetworkFactory(trunk=b, network="10.2.3.0/24")
    assert world.call("77374", trunk=None, source_ip="10.2.3.4").trunk.id == a.id
    assert world.call("7374", trunk=None, source_ip="10.2.3.4").trunk.id == b.id
    assert world.call("7374", trunk=None, source_ip="10.2.9.9").reason == "tech_prefix_mismatch"


def test_step2c_trunk_given_but_number_lacks_its_tech_prefix_is_404(world):
    world.link("374")
    d = world.call("37412345")
    assert (d.reason, d.sip_code, d.trunk.id) == ("tech_prefix_mismatch", 404, world.trunk.id)


def test_step3_disabled_trunk_is_403(world):
    world.link("374")
    Trunk.objects.filter(pk=world.trunk.pk).update(status="disabled")
    d = world.call("937412345")
    assert (d.reason, d.sip_code, d.sip_reason) == ("trunk_disabled", 403, "Forbidden")


def test_step4_blocked_customer_is_403(world):
    world.link("374")
    world.customer.status = Customer.BLOCKED
    world.customer.save()
    assert (world.call("937412345").reason, world.call("937412345").sip_code) == (
        "customer_blocked",
        403,
    )


@pytest.mark.parametrize(
    "fields, ok",
    [
        ({"billing_type": "prepaid", "balance": Decimal("0")}, False),
        ({"billing_type": "prepaid", "balance": Decimal("0.0001")}, True),
        ({"billing_type": "postpaid", "balance": Decimal("-10"), "credit_limit": 10}, False),
        ({"billing_type": "postpaid", "balance": Decimal("-10"), "credit_limit": 11}, True),
        (
            {
                "billing_type": "postpaid",
                "balance": Decimal("-10"),
                "credit_limit": 5,
                "overdraft_allowed": True,
                "overdraft_limit": 6,
            },
            True,
        ),
        (
            {
                "billing_type": "postpaid",
                "balance": Decimal("-10"),
                "credit_limit": 5,
                "overdraft_allowed": False,
                "overdraft_limit": 6,
            },
            False,
        ),
        ({"billing_type": "postpaid", "balance": Decimal("-1e6"), "credit_unlimited": True}, True),
    ],
)
def test_step5_balance(world, fields, ok):
    world.link("374")
    # The balance is not written by a save (only balance entries move it): set the
    # fixture's terms straight in the table.
    Customer.objects.filter(pk=world.customer.pk).update(**fields)
    d = world.call("937412345")
    if ok:
        assert d.routed
    else:
        assert (d.reason, d.sip_code, d.sip_reason) == (
            "insufficient_balance",
            402,
            "Payment Required",
        )


def test_step7_no_matching_rule_is_404(world):
    world.link("39")
    assert (world.call("937412345").reason, world.call("937412345").sip_code) == ("no_route", 404)


def test_step7_no_dialpeer_at_all_is_no_route(world):
    world.rule("374")  # a rule nobody linked
    assert world.call("937412345").reason == "no_route"


def test_step8_rule_without_usable_target_is_503(world):
    rule = RoutingRuleFactory(tenant=world.tenant, code="374")
    DialpeerFactory(trunk=world.trunk, rule=rule)
    d = world.call("937412345")
    assert (d.reason, d.sip_code, d.sip_reason) == ("no_target", 503, "Service Unavailable")
    assert d.rule.id == rule.id
    VMGateClient.objects.filter(pk=world.client.pk).update(status="off")
    RoutingTargetFactory(rule=rule, client=world.client)
    assert world.call("937412345").reason == "no_target"


def test_step9_plan_without_a_rate_is_403_and_no_plan_is_unbilled(world):
    world.link("374")
    d = world.call("937412345")
    assert d.routed and d.unbilled and d.rate is None
    plan = RatePlanFactory(tenant=world.tenant, name="Retail")
    Trunk.objects.filter(pk=world.trunk.pk).update(rate_plan=plan)
    RateFactory(rate_plan=plan, code="39")
    d = world.call("937412345")
    assert (d.reason, d.sip_code, d.unbilled) == ("no_rate", 403, False)
    RateFactory(rate_plan=plan, code="374", valid_since=datetime(2030, 1, 1, tzinfo=UTC))
    assert world.call("937412345", at=JAN).reason == "no_rate"


def test_routed_is_302_with_targets_rule_dialpeer_and_rate(world):
    rule, dp = world.link("374")
    plan = RatePlanFactory(tenant=world.tenant, name="Retail", currency="EUR")
    Trunk.objects.filter(pk=world.trunk.pk).update(rate_plan=plan)
    RateFactory(rate_plan=plan, code="37", rate_per_min=Decimal("0.2"))
    best = RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    RateFactory(
        rate_plan=plan,
        code="374",
        rate_per_min=Decimal("0.9"),
        valid_since=datetime(2031, 1, 1, tzinfo=UTC),
    )
    d = world.call("937412345", at=datetime(2026, 6, 1, tzinfo=UTC))
    assert (d.outcome, d.reason, d.sip_code, d.sip_reason) == (
        "routed",
        "routed",
        302,
        "Moved Temporarily",
    )
    assert d.dialpeer.id == dp.id and d.rule.id == rule.id
    assert d.customer.id == world.customer.id and d.trunk.id == world.trunk.id
    assert [t.client.sip_uri for t in d.targets] == [world.client.sip_uri]
    assert d.rate.id == best.id and d.rate.currency == "EUR" and not d.unbilled
    assert world.call(
        "937412345", at=datetime(2031, 6, 1, tzinfo=UTC)
    ).rate.rate_per_min == Decimal("0.9")


def test_disabled_rate_plan_counts_as_no_rate(world):
    world.link("374")
    plan = RatePlanFactory(tenant=world.tenant, status="disabled")
    RateFactory(rate_plan=plan, code="374")
    Trunk.objects.filter(pk=world.trunk.pk).update(rate_plan=plan)
    assert world.call("937412345").reason == "no_rate"


# --- tie-breaks and eligibility ------------------------------------------------------------


def test_a_same_code_tie_cannot_be_stored_and_an_inactive_twin_never_wins(world):
    """The database holds one active dialpeer per code per trunk, so the SPEC's tie-breaks
    (trunk-scoped first, then the lowest dialpeer id: tests/routing/test_engine_core.py)
    only ever meet inactive twins, which eligibility removes before ranking."""
    _, inactive = world.link("374", dp_active=False)
    rule, active = world.link("374")
    assert inactive.id < active.id
    d = world.call("937412345", explain=True)
    assert d.dialpeer.id == active.id and d.rule.id == rule.id
    assert {c.dialpeer.id: c.why for c in d.candidates}[inactive.id] == "dialpeer inactive"
    with pytest.raises(IntegrityError), transaction.atomic():
        world.link("374", scope=world.trunk)


@pytest.mark.parametrize("spoiler", ["dp_inactive", "rule_inactive", "other_scope"])
def test_ineligible_links_never_change_the_result_even_with_longer_codes(world, spoiler):
    rule, _ = world.link("37")
    before = world.call("937412345", at=JAN).as_dict()
    other_trunk = TrunkFactory(customer=world.customer, tech_prefix="8")
    if spoiler == "dp_inactive":
        world.link("37412", dp_active=False)
    elif spoiler == "rule_inactive":
        world.link("37412", is_active=False)
    else:
        # Linking a rule scoped to another trunk is refused by validation; the engine must
        # still ignore such a row (it can exist after a scope change raced a link).
        world.link("37412", scope=other_trunk)
    after = world.call("937412345", at=JAN).as_dict()
    assert after == before and after["rule"]["id"] == rule.id


def test_dialpeers_of_another_trunk_are_not_candidates(world):
    other = TrunkFactory(customer=world.customer, tech_prefix="9", name="second")
    world.link("374", trunk=other)
    assert world.call("937412345").reason == "no_route"


# --- targets through the engine --------------------------------------------------------------


def test_weight_mode_orders_by_load_then_weight(world):
    rule = RoutingRuleFactory(tenant=world.tenant, code="374")
    DialpeerFactory(trunk=world.trunk, rule=rule)
    busy = VMGateClientFactory(network=world.network, active_calls=3)
    idle_light = VMGateClientFactory(network=world.network, active_calls=0)
    idle_heavy = VMGateClientFactory(network=world.network, active_calls=0)
    RoutingTargetFactory(rule=rule, client=busy, weight=100)
    RoutingTargetFactory(rule=rule, client=idle_light, weight=1)
    RoutingTargetFactory(rule=rule, client=idle_heavy, weight=60)
    assert [t.client.id for t in world.call("937412345").targets] == [
        idle_heavy.id,
        idle_light.id,
        busy.id,
    ]
    # load is read fresh: the next decision sees a changed active_calls
    VMGateClient.objects.filter(pk=idle_heavy.pk).update(active_calls=9)
    assert world.call("937412345").targets[-1].client.id == idle_heavy.id


def test_priority_mode_round_robin_advances_only_on_live_decisions(world):
    rule = RoutingRuleFactory(tenant=world.tenant, code="374", assignment=RoutingRule.PRIORITY)
    DialpeerFactory(trunk=world.trunk, rule=rule)
    a, b = (VMGateClientFactory(network=world.network) for _ in range(2))
    backup = VMGateClientFactory(network=world.network)
    RoutingTargetFactory(rule=rule, client=a, priority=0)
    RoutingTargetFactory(rule=rule, client=b, priority=0)
    RoutingTargetFactory(rule=rule, client=backup, priority=5)

    def order(**kw):
        return [t.client.id for t in world.call("937412345", **kw).targets]

    assert order(explain=True) == [a.id, b.id, backup.id]
    assert order(explain=True) == [a.id, b.id, backup.id]  # explain never advances
    assert order() == [a.id, b.id, backup.id]
    assert order() == [b.id, a.id, backup.id]
    assert order(explain=True) == [a.id, b.id, backup.id]
    assert order() == [a.id, b.id, backup.id]


def test_network_and_sim_slot_targets(world):
    rule = RoutingRuleFactory(tenant=world.tenant, code="374")
    DialpeerFactory(trunk=world.trunk, rule=rule)
    net = NetworkFactory(tenant=world.tenant)
    c1 = VMGateClientFactory(network=net, active_calls=1)
    VMGateClientFactory(network=net, status="off")
    c3 = VMGateClientFactory(network=net, active_calls=2)
    slot = SimSlotFactory(client=c3, position=4)
    RoutingTargetFactory(rule=rule, network=net, client=None)
    RoutingTargetFactory(rule=rule, sim_slot=slot, client=None)
    d = world.call("937412345", explain=True)
    assert [(t.client.id, t.sim_slot and t.sim_slot.position) for t in d.targets] == [
        (c1.id, None),
        (c3.id, None),
    ]
    assert any("is off" in s.reason for s in d.skipped_targets)
    assert any("already placed" in s.reason for s in d.skipped_targets)


# --- explanations and the JSON form --------------------------------------------------------


def test_explain_lists_every_candidate_with_why_it_lost_and_every_step(world):
    world.link("374")
    world.link("3")
    world.link("39")
    world.link("3741", dp_active=False)
    world.link("37412", is_active=False)
    d = world.call("937412345", explain=True)
    why = {c.rule.code: c.why for c in d.candidates}
    assert why == {
        "374": "",
        "3": "shorter than the winner (374 — Armenia)",
        "39": "code does not match",
        "3741": "dialpeer inactive",
        "37412": "rule inactive",
    }
    assert [(s.key, s.status) for s in d.steps] == [
        ("number", "ok"),
        ("ingress", "ok"),
        ("tech_prefix", "ok"),
        ("translate", "info"),  # no ingress translation on the trunk
        ("trunk_status", "ok"),
        ("customer_status", "ok"),
        ("balance", "ok"),
        ("lists", "info"),  # no number lists on the trunk
        ("candidates", "ok"),
        ("match", "ok"),
        ("targets", "ok"),
        ("rate", "info"),
    ]
    assert "937412345 → 37412345" in d.steps[2].detail
    assert d.steps[-1].detail == "unbilled: trunk has no rate plan"


def test_explain_of_a_rejection_marks_later_steps_not_reached(world):
    world.link("39")
    d = world.call("937412345", explain=True)
    statuses = {s.key: s.status for s in d.steps}
    assert statuses["match"] == "fail" and statuses["targets"] == "skip"
    assert d.summary == "Rejected: no route → 404"


def test_as_dict_is_plain_json(world):
    world.link("374")
    plan = RatePlanFactory(tenant=world.tenant)
    RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.125"))
    Trunk.objects.filter(pk=world.trunk.pk).update(rate_plan=plan)
    for explain in (False, True):
        data = json.loads(json.dumps(world.call("937412345", explain=explain).as_dict()))
        assert data["outcome"] == "routed" and data["sip_code"] == 302
        assert data["rule"]["code"] == "374" and data["rule"]["name"] == "374 — Armenia"
        assert data["rate"]["rate_per_min"] == "0.125000"
        assert data["targets"][0]["client"]["sip_uri"] == world.client.sip_uri
        assert data["targets"][0]["sim_slot"] is None
        assert data["at"].endswith("Z")
        assert ("candidates" in data) is explain


def test_summary_lines(world):
    world.link("374")
    assert world.call("937412345").summary == "Routed → 302"
    assert world.call("9 374", trunk=None, source_ip="203.0.113.9").summary == (
        "Rejected: invalid number → 484"
    )
    assert (
        world.call("937412345", trunk=None, source_ip="192.0.2.1").summary
        == "Rejected: unknown source (no reply)"
    )


def test_an_unknown_source_is_decided_before_the_number_step_0(world):
    """SPEC §5 step 0: a source no trunk authorizes learns nothing, not even that its
    number is malformed; live and explained alike."""
    world.link("374")
    for number in ("9 374", "", "x" * 50, "937412345"):
        for explain in (False, True):
            d = world.call(number, trunk=None, source_ip="192.0.2.1", explain=explain)
            assert (d.reason, d.sip_code) == ("unknown_source", None), (number, explain)
    d = world.call("9 374", trunk=None, source_ip="192.0.2.1", explain=True)
    assert [(s.key, s.status) for s in d.steps][:2] == [("source", "fail"), ("number", "skip")]
    assert d.deciding_step.key == "source" and "192.0.2.1" in d.deciding_step.detail
    # a known source with a malformed number: the number step decides
    d = world.call("9 374", trunk=None, source_ip="203.0.113.9", explain=True)
    assert d.reason == "invalid_number" and d.deciding_step.key == "number"
    assert [s.key for s in d.steps][:2] == ["source", "number"]


# --- malformed ingress and tenancy -----------------------------------------------------------


def test_malformed_ingress_raises(world, other_tenant):
    with pytest.raises(IngressError):
        route_call(world.tenant, called_number="9374")
    with pytest.raises(IngressError):
        route_call(world.tenant, called_number="9374", trunk=world.trunk, source_ip="1.2.3.4")
    with pytest.raises(IngressError):
        route_call(world.tenant, called_number="9374", source_ip="not-an-ip")
    foreign = TrunkFactory(customer=CustomerFactory(tenant=other_tenant))
    with pytest.raises(IngressError):
        route_call(world.tenant, called_number="9374", trunk=foreign)
    with pytest.raises(IngressError):
        route_call(world.tenant, called_number="9374", trunk=foreign.pk)


def test_another_tenants_networks_never_identify_ingress(world, other_tenant):
    foreign = TrunkFactory(customer=CustomerFactory(tenant=other_tenant), tech_prefix="9")
    TrunkNetworkFactory(trunk=foreign, network="198.51.100.0/24")
    DialpeerFactory(trunk=foreign, rule=RoutingRuleFactory(tenant=other_tenant, code="374"))
    assert world.call("937412345", trunk=None, source_ip="198.51.100.1").reason == "unknown_source"


def test_a_lone_network_target_by_weight_orders_its_ready_clients_by_load_then_id(tenant):
    """SPEC §5 step 8 by weight for a rule whose one target is a network: the live decision
    (which takes the network's clients already in weight order) and the explanation (which
    expands the target in full) agree, and follow a client's load change at once."""
    world = build_route_world(tenant)
    rule, network = world["rule"], world["gw_a"].network
    rule.targets.all().delete()
    RoutingTargetFactory(rule=rule, network=network, client=None, weight=7)
    VMGateClient.objects.filter(pk=world["gw_a"].pk).update(active_calls=3)
    VMGateClient.objects.filter(pk=world["gw_b"].pk).update(active_calls=0)
    gw_c = VMGateClientFactory(network=network, name="gw-c", active_calls=3)
    VMGateClientFactory(network=network, name="gw-off", status="off", active_calls=0)

    def orders():
        kw = {"called_number": "9937412345", "trunk": world["trunk"]}
        live = route_call(tenant, **kw)
        explained = route_call(tenant, explain=True, **kw)
        return (
            [t.client.name for t in live.targets],
            [t.client.name for t in explained.targets],
            [s.name for s in explained.skipped_targets],
        )

    live, explained, skipped = orders()
    assert live == explained == ["gw-b", "gw-a", "gw-c"]  # load, then client id
    assert len(skipped) == 1 and [
        t.weight
        for t in route_call(tenant, called_number="9937412345", trunk=world["trunk"]).targets
    ] == [7, 7, 7]
    VMGateClient.objects.filter(pk=gw_c.pk).update(active_calls=1)
    live, explained, _ = orders()
    assert live == explained == ["gw-b", "gw-c", "gw-a"]
