"""The in-process routing index stays exact: after every kind of edit, an index kept up to
date by the change feed equals a freshly built one, and the decisions (live and explained)
over it equal those over the fresh one. Warm decisions run no query; a late-committing
transaction is never missed."""

import subprocess
import sys
import threading
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import ProtectedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork, TrunkNumberList
from dialpeers.models import Dialpeer
from routing.engine import index as route_index
from routing.engine import parse_source_ip, route_call
from routing.engine.steps import decide
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingRule,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    SimSlot,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RateFactory,
    RatePlanFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TenantFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)

AT = datetime(2026, 6, 1, tzinfo=UTC)
NUMBERS = ["37412345", "3912345", "4412345", "374"]


class Shop:
    """A tenant with two customers, three trunks, rules, dialpeers, targets and a plan."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.cust = CustomerFactory(tenant=tenant, name="Carrier A")
        self.cust2 = CustomerFactory(tenant=tenant, name="Carrier B")
        self.plan = RatePlanFactory(tenant=tenant, name="Retail")
        RateFactory(rate_plan=self.plan, code="374", rate_per_min=Decimal("0.1"))
        RateFactory(rate_plan=self.plan, code="", rate_per_min=Decimal("0.5"))
        self.t1 = TrunkFactory(customer=self.cust, tech_prefix="9", rate_plan=self.plan)
        self.t2 = TrunkFactory(customer=self.cust, tech_prefix="8")
        self.t3 = TrunkFactory(customer=self.cust2, tech_prefix="7")
        TrunkNetworkFactory(trunk=self.t1, network="203.0.113.0/24")
        TrunkNetworkFactory(trunk=self.t2, network="203.0.113.0/25")
        TrunkNetworkFactory(trunk=self.t3, network="2001:db8::/48")
        self.net = NetworkFactory(tenant=tenant)
        self.c1 = VMGateClientFactory(network=self.net, active_calls=1)
        self.c2 = VMGateClientFactory(network=self.net, active_calls=2)
        self.slot = SimSlotFactory(client=self.c2, position=3)
        self.rules = {}
        for code in ("374", "39", "", "3741"):
            rule = RoutingRuleFactory(tenant=tenant, code=code)
            RoutingTargetFactory(rule=rule, client=self.c1)
            self.rules[code] = rule
        RoutingTargetFactory(rule=self.rules["39"], network=self.net, client=None)
        self.dps = [
            DialpeerFactory(trunk=self.t1, rule=self.rules["374"]),
            DialpeerFactory(trunk=self.t1, rule=self.rules["39"]),
            DialpeerFactory(trunk=self.t2, rule=self.rules[""]),
            DialpeerFactory(trunk=self.t3, rule=self.rules["374"]),
            DialpeerFactory(trunk=self.t1, rule=self.rules["3741"], is_active=False),
        ]

    def route_all(self):
        for trunk in (self.t1, self.t2, self.t3):
            for n in NUMBERS:
                route_call(self.tenant, called_number=trunk.tech_prefix + n, trunk=trunk, at=AT)


def assert_exact(tenant, shop):
    """Index (kept by the change feed) == fresh build, and so are the decisions over them."""
    shop.route_all()  # syncs
    live = route_index.get_index(tenant.pk)
    fresh = route_index.TenantIndex(tenant.pk)
    fresh.build()
    assert live.snapshot() == fresh.snapshot()
    for trunk in Trunk.objects.filter(tenant=tenant):
        for n in NUMBERS:
            raw = trunk.tech_prefix + n
            got = route_call(tenant, called_number=raw, trunk=trunk, at=AT, explain=True)
            want = decide(fresh, raw, trunk.pk, None, AT, True, tenant.currency)
            assert got.as_dict() == want.as_dict(), (raw, got, want)
            live = route_call(tenant, called_number=raw, trunk=trunk, at=AT).as_dict()
            assert live == {k: v for k, v in got.as_dict().items() if k in live}
    for ip in ("203.0.113.5", "203.0.113.200", "2001:db8::1", "192.0.2.1"):
        got = route_call(tenant, called_number="937412345", source_ip=ip, at=AT, explain=True)
        want = decide(fresh, "937412345", None, parse_source_ip(ip), AT, True, tenant.currency)
        assert got.as_dict() == want.as_dict()


def edit_rule_code(s):
    s.rules["3741"].code = "37412"
    s.rules["3741"].save()
    s.rules["39"].code = "3"
    s.rules["39"].save()


def scope_rule_to_this_trunk(s):
    s.rules["374"].trunk = s.t1
    s.rules["374"].save()


def scope_rule_to_another_trunk(s):
    RoutingRule.objects.filter(pk=s.rules["39"].pk).update(trunk=s.t2)


def deactivate_rule(s):
    s.rules["374"].is_active = False
    s.rules["374"].save()


def deactivate_dialpeer(s):
    s.dps[0].is_active = False
    s.dps[0].save()


def activate_dialpeer(s):
    s.dps[4].is_active = True
    s.dps[4].save()


def delete_dialpeer(s):
    s.dps[1].delete()


def create_link(s):
    rule = RoutingRuleFactory(tenant=s.tenant, code="44")
    RoutingTargetFactory(rule=rule, client=s.c2)
    DialpeerFactory(trunk=s.t1, rule=rule)


def move_dialpeer_to_another_trunk(s):
    Dialpeer.objects.filter(pk=s.dps[1].pk).update(trunk=s.t2)


def point_dialpeer_at_another_rule(s):
    s.dps[0].rule = s.rules[""]
    s.dps[0].save()


def delete_rule(s):
    Dialpeer.objects.filter(rule=s.rules["39"]).delete()
    RoutingTarget.objects.filter(rule=s.rules["39"]).delete()
    s.rules["39"].delete()


def client_goes_off(s):
    s.c1.status = "off"
    s.c1.save()


def client_load_changes(s):
    VMGateClient.objects.filter(pk=s.c1.pk).update(active_calls=7)


def client_moves_network(s):
    s.c2.network = NetworkFactory(tenant=s.tenant)
    s.c2.save()


def slot_disabled_and_targeted(s):
    RoutingTargetFactory(rule=s.rules["374"], sim_slot=s.slot, client=None, weight=50)
    SimSlot.objects.filter(pk=s.slot.pk).update(enabled=False)


def target_deactivated(s):
    RoutingTarget.objects.filter(rule=s.rules["374"]).update(is_active=False)


def targets_replaced(s):
    RoutingTarget.objects.filter(rule=s.rules["39"]).delete()
    RoutingTargetFactory(rule=s.rules["39"], client=s.c2, priority=2)
    RoutingTargetFactory(rule=s.rules["39"], sim_slot=s.slot, client=None, priority=1)


def network_target_moved_to_another_rule(s):
    RoutingTarget.objects.filter(rule=s.rules["39"], network__isnull=False).update(
        rule=s.rules["374"]
    )


def trunk_disabled_and_prefix_changed(s):
    s.t1.status = "disabled"
    s.t1.save()
    Trunk.objects.filter(pk=s.t2.pk).update(tech_prefix="99")


def trunk_changes_customer(s):
    Trunk.objects.filter(pk=s.t3.pk).update(customer=s.cust)


def trunk_networks_change(s):
    TrunkNetwork.objects.filter(trunk=s.t2).delete()
    TrunkNetworkFactory(trunk=s.t3, network="203.0.113.0/26")


def customer_blocked_and_broke(s):
    Customer.objects.filter(pk=s.cust.pk).update(status="blocked")
    Customer.objects.filter(pk=s.cust2.pk).update(balance=0)


def rates_change(s):
    Rate.objects.filter(rate_plan=s.plan, code="374").update(code="3741")
    RateFactory(rate_plan=s.plan, code="39", rate_per_min=Decimal("0.3"))
    Rate.objects.filter(rate_plan=s.plan, code="").delete()


def plan_disabled_and_renamed(s):
    RatePlan.objects.filter(pk=s.plan.pk).update(status="disabled", name="Old retail")


def plan_moved_to_another_trunk(s):
    Trunk.objects.filter(pk=s.t1.pk).update(rate_plan=None)
    Trunk.objects.filter(pk=s.t2.pk).update(rate_plan=s.plan)


def bulk_deactivate(s):
    Dialpeer.objects.filter(tenant=s.tenant).update(is_active=False)


# --- routing policy (SPEC §9): AT is Monday 1 June 2026 00:00 UTC -----------------------


def _policy_set(s, name="ingress"):
    tset, _ = TranslationSet.objects.get_or_create(tenant=s.tenant, name=name)
    return tset


def ingress_translation_attached(s):
    tset = _policy_set(s)
    TranslationRule.objects.get_or_create(
        translation_set=tset, position=1, defaults={"match": "39([0-9]+)", "replace": r"3741\1"}
    )
    Trunk.objects.filter(pk=s.t1.pk).update(ingress_translation=tset)


def translation_rule_edited(s):
    tset = _policy_set(s)
    Trunk.objects.filter(pk__in=[s.t1.pk, s.t2.pk]).update(ingress_translation=tset)
    rule, _ = TranslationRule.objects.get_or_create(
        translation_set=tset, position=2, defaults={"match": "4([0-9]+)", "replace": r"39\1"}
    )
    rule.match, rule.replace, rule.stop = "374([0-9]+)", r"39\1", False
    rule.save()


def egress_translation_on_the_network(s):
    tset = _policy_set(s, "egress")
    TranslationRule.objects.get_or_create(
        translation_set=tset, position=1, defaults={"match": "374([0-9]+)", "replace": r"0\1"}
    )
    Network.objects.filter(pk=s.net.pk).update(egress_translation=tset)


def deny_list_on_a_trunk(s):
    nl, _ = NumberList.objects.get_or_create(tenant=s.tenant, name="premium")
    NumberListEntry.objects.get_or_create(number_list=nl, value="3912", match="prefix")
    NumberListEntry.objects.get_or_create(number_list=nl, value="374", match="exact")
    TrunkNumberList.objects.get_or_create(trunk=s.t1, number_list=nl)


def list_entries_and_kind_change(s):
    deny_list_on_a_trunk(s)
    NumberList.objects.filter(tenant=s.tenant).update(kind="allow")
    NumberListEntry.objects.filter(number_list__tenant=s.tenant, value="3912").delete()
    nl = NumberList.objects.create(tenant=s.tenant, name="callers", applies_to="calling")
    TrunkNumberList.objects.create(trunk=s.t2, number_list=nl)


def list_detached_from_a_trunk(s):
    deny_list_on_a_trunk(s)
    TrunkNumberList.objects.filter(trunk=s.t1).delete()


def schedules_on_rules_and_targets(s):
    shut, _ = Schedule.objects.get_or_create(tenant=s.tenant, name="office", timezone="UTC")
    ScheduleWindow.objects.create(schedule=shut, weekdays=[1], start=time(9), end=time(17))
    RoutingRule.objects.filter(pk=s.rules["374"].pk).update(schedule=shut)
    RoutingTarget.objects.filter(rule=s.rules["39"], network__isnull=False).update(schedule=shut)


def schedule_window_opens(s):
    schedules_on_rules_and_targets(s)
    ScheduleWindow.objects.filter(schedule__tenant=s.tenant).update(start=time(0))


EDITS = [
    ingress_translation_attached,
    translation_rule_edited,
    egress_translation_on_the_network,
    deny_list_on_a_trunk,
    list_entries_and_kind_change,
    list_detached_from_a_trunk,
    schedules_on_rules_and_targets,
    schedule_window_opens,
    create_link,
    edit_rule_code,
    scope_rule_to_this_trunk,
    scope_rule_to_another_trunk,
    deactivate_rule,
    deactivate_dialpeer,
    activate_dialpeer,
    delete_dialpeer,
    move_dialpeer_to_another_trunk,
    point_dialpeer_at_another_rule,
    delete_rule,
    client_goes_off,
    client_load_changes,
    client_moves_network,
    slot_disabled_and_targeted,
    target_deactivated,
    targets_replaced,
    network_target_moved_to_another_rule,
    trunk_disabled_and_prefix_changed,
    trunk_changes_customer,
    trunk_networks_change,
    customer_blocked_and_broke,
    rates_change,
    plan_disabled_and_renamed,
    plan_moved_to_another_trunk,
    bulk_deactivate,
]


@pytest.mark.django_db
@pytest.mark.parametrize("edit", EDITS, ids=lambda f: f.__name__)
def test_index_stays_exact_after_each_kind_of_edit(tenant, edit):
    shop = Shop(tenant)
    shop.route_all()  # build and warm the index before the edit
    edit(shop)
    assert_exact(tenant, shop)


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(EDITS), min_size=2, max_size=4))
def test_index_stays_exact_after_random_edit_sequences(edits):
    tenant = TenantFactory()
    shop = Shop(tenant)
    shop.route_all()
    for edit in edits:
        try:
            with transaction.atomic():
                edit(shop)
        except (IntegrityError, ProtectedError, ObjectDoesNotExist, ValueError):
            pass  # an edit that no longer applies; its savepoint was rolled back
        assert_exact(tenant, shop)


@pytest.mark.django_db
def test_a_rolled_back_edit_leaves_the_index_as_before(tenant):
    shop = Shop(tenant)
    before = route_call(tenant, called_number="937412345", trunk=shop.t1, at=AT).as_dict()
    with pytest.raises(RuntimeError), transaction.atomic():
        deactivate_rule(shop)
        assert route_call(tenant, called_number="937412345", trunk=shop.t1, at=AT).reason == (
            "no_route"
        )  # its own transaction sees the edit…
        raise RuntimeError("roll back")
    # …and once rolled back, the index forgets it.
    assert route_call(tenant, called_number="937412345", trunk=shop.t1, at=AT).as_dict() == before
    assert_exact(tenant, shop)


# --- outside a test transaction: the production path -----------------------------------------


@pytest.fixture
def committed_shop(transactional_db):
    tenant = TenantFactory()
    shop = Shop(tenant)
    route_index.reset()
    return shop


def test_a_warm_decision_runs_no_query(committed_shop, django_assert_num_queries, monkeypatch):
    shop = committed_shop
    monkeypatch.setattr(route_index, "POLL_INTERVAL", 3600)
    route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)  # cold
    with django_assert_num_queries(0):
        d = route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)
        route_call(shop.tenant, called_number="937412345", source_ip="203.0.113.9", at=AT)
    assert d.routed and d.rule.code == "374"


def test_no_route_is_cold_a_thousand_unseen_routes_run_no_query(
    committed_shop, django_assert_num_queries, monkeypatch
):
    """Issue 16: once the index is ready, a route never used before costs what a route used
    a million times costs: no query (targets, dialpeer and rule come with the index)."""
    shop = committed_shop
    monkeypatch.setattr(route_index, "POLL_INTERVAL", 3600)
    clients = [VMGateClientFactory(network=shop.net) for _ in range(3)]
    for i in range(1000):
        rule = RoutingRuleFactory(tenant=shop.tenant, code=f"6{i:04d}")
        RoutingTargetFactory(rule=rule, client=clients[i % 3], weight=1 + i % 5)
        if i % 2:
            RoutingTargetFactory(rule=rule, network=shop.net, client=None, priority=1)
        DialpeerFactory(trunk=shop.t1, rule=rule)
    route_index.reset()
    route_call(shop.tenant, called_number="9374", trunk=shop.t1, at=AT)  # builds the index
    with django_assert_num_queries(0):
        decisions = [
            route_call(shop.tenant, called_number=f"96{i:04d}1", trunk=shop.t1, at=AT)
            for i in range(1000)
        ]
    assert all(d.routed for d in decisions)
    assert [d.rule.code for d in decisions] == [f"6{i:04d}" for i in range(1000)]
    assert decisions[1].targets[0].client.id == clients[1].pk


@pytest.mark.parametrize("extra_dialpeers", [1, 60])
def test_the_first_decision_after_an_edit_costs_a_fixed_number_of_queries(
    committed_shop, django_assert_num_queries, monkeypatch, extra_dialpeers
):
    shop = committed_shop
    monkeypatch.setattr(route_index, "POLL_INTERVAL", 3600)
    for i in range(extra_dialpeers):
        rule = RoutingRuleFactory(tenant=shop.tenant, code=f"5{i:03d}")
        DialpeerFactory(trunk=shop.t1, rule=rule)
    route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)
    shop.dps[0].is_active = False
    shop.dps[0].save()
    shop.dps[0].is_active = True
    shop.dps[0].save()
    # the poll and the changed (trunk, code) entries — whatever the size
    with django_assert_num_queries(2):
        d = route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)
    assert d.routed and d.dialpeer.id == shop.dps[0].pk


def test_an_edit_by_another_process_is_seen_after_one_poll_interval(committed_shop):
    shop = committed_shop
    assert route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT).routed
    root = Path(__file__).resolve().parents[2]
    code = (
        "import django; django.setup();"
        "from dialpeers.models import Dialpeer;"
        f"Dialpeer.objects.filter(pk={shop.dps[0].pk}).update(is_active=False)"
    )
    if connection.vendor == "postgresql":
        env = {"DJANGO_SETTINGS_MODULE": "vmgate.settings", "DATABASE_URL": _database_url()}
        subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True)
    else:
        # SQLite's test database lives in this process's memory: use another connection.
        def other_connection():
            Dialpeer.objects.filter(pk=shop.dps[0].pk).update(is_active=False)
            connections.close_all()

        worker = threading.Thread(target=other_connection)
        worker.start()
        worker.join()
    idx = route_index.get_index(shop.tenant.pk)
    idx.write_seq = route_index._write_seq  # nothing written by this process
    idx.last_poll -= route_index.POLL_INTERVAL  # the poll interval has passed
    assert route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT).reason == (
        "no_route"
    )


def _database_url():
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_transaction_that_commits_after_a_later_one_is_not_missed(committed_shop):
    """Change-log rows are read by transaction id against the previous snapshot's xmin, so
    an edit whose transaction began earlier but commits later is still applied."""
    if connection.vendor != "postgresql":
        # SQLite serialises writers: a later commit always has later change ids.
        assert route_call(
            committed_shop.tenant, called_number="937412345", trunk=committed_shop.t1, at=AT
        ).routed
        return
    shop = committed_shop
    route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                Dialpeer.objects.filter(pk=shop.dps[0].pk).update(is_active=False)
                started.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    started.wait(10)
    Dialpeer.objects.filter(pk=shop.dps[1].pk).update(is_active=False)  # commits first
    d = route_call(shop.tenant, called_number="93912345", trunk=shop.t1, at=AT)
    assert d.reason == "no_route"  # the later edit is visible
    assert route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT).routed
    release.set()
    done.wait(10)
    thread.join()
    route_index.note_write()  # what the writer thread's commit hook does in production
    assert route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT).reason == (
        "no_route"
    )


def test_a_trunk_created_a_moment_ago_elsewhere_is_found_at_once(committed_shop, monkeypatch):
    """The API validates a trunk id against the database; the index must not call it
    unknown while its next poll is still due."""
    shop = committed_shop
    monkeypatch.setattr(route_index, "POLL_INTERVAL", 3600)
    route_call(shop.tenant, called_number="937412345", trunk=shop.t1, at=AT)
    holder = {}

    def other_connection():
        holder["trunk"] = TrunkFactory(customer=shop.cust, tech_prefix="5")
        connections.close_all()

    worker = threading.Thread(target=other_connection)
    worker.start()
    worker.join()
    route_index.get_index(shop.tenant.pk).write_seq = route_index._write_seq
    d = route_call(shop.tenant, called_number="5374", trunk=holder["trunk"].pk, at=AT)
    assert d.trunk.id == holder["trunk"].pk and d.reason == "no_route"


@pytest.mark.django_db
def test_unparsable_source_ips_are_refused_whatever_their_type(tenant):
    from routing.engine import IngressError

    for bad in ("", "1.2.3", "fe80::1%eth0", "1.2.3.4\x00", 1234, ["1.2.3.4"]):
        with pytest.raises(IngressError):
            route_call(tenant, called_number="9374", source_ip=bad)
