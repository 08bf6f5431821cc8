"""route_call with routing policy (SPEC §9), against real PostgreSQL: step 2d (ingress
translation), step 5b (number lists), schedules in steps 6 and 8, egress translation of
each target's number, the calling number, and what explanations show of each."""

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from customers.models import Customer, TrunkNumberList
from routing.engine import CallingNumberError
from routing.engine.http import contact_uris
from routing.models import RoutingTarget
from tests.factories import (
    DialpeerFactory,
    NetworkFactory,
    NumberListEntryFactory,
    NumberListFactory,
    RoutingTargetFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
    VMGateClientFactory,
)
from tests.routing.test_route_call import World

pytestmark = pytest.mark.django_db

SAT_2300_YEREVAN = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # Saturday 23:00 in Asia/Yerevan
MON_1000_YEREVAN = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Yerevan


@pytest.fixture
def world(tenant):
    return World(tenant)


def translation(tenant, *rules, name="set"):
    tset = TranslationSetFactory(tenant=tenant, name=name)
    for position, (match, replace, stop) in enumerate(rules, start=1):
        TranslationRuleFactory(
            translation_set=tset, position=position, match=match, replace=replace, stop=stop
        )
    return tset


def with_ingress(world, *rules):
    world.trunk.ingress_translation = translation(world.tenant, *rules, name="ingress")
    world.trunk.save()
    return world.trunk.ingress_translation


def number_list(world, kind="deny", applies_to="called", entries=(("900", "prefix"),), name="L"):
    nl = NumberListFactory(tenant=world.tenant, name=name, kind=kind, applies_to=applies_to)
    for value, match in entries:
        NumberListEntryFactory(number_list=nl, value=value, match=match)
    TrunkNumberList.objects.create(trunk=world.trunk, number_list=nl)
    return nl


def yerevan_office(tenant, days=(1, 2, 3, 4, 5), start=time(9), end=time(18)):
    schedule = ScheduleFactory(tenant=tenant, name="office", timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=schedule, weekdays=list(days), start=start, end=end)
    return schedule


# --- step 2d: ingress translation ---------------------------------------------------------


def test_ingress_translation_rewrites_the_number_before_codes_are_matched(world):
    rule, _ = world.link("374")
    with_ingress(world, ("0([0-9]+)", r"374\1", True))
    d = world.call("9091234567")
    assert d.routed and d.rule.id == rule.id
    assert (d.called_number, d.number) == ("9091234567", "37491234567")


def test_an_explanation_shows_before_after_and_the_rule_that_fired(world):
    world.link("374")
    tset = with_ingress(world, ("00([0-9]+)", r"\1", False), ("0([0-9]+)", r"374\1", True))
    d = world.call("9091234567", explain=True)
    step = next(s for s in d.steps if s.key == "translate")
    assert step.status == "ok" and step.title == "2d. Ingress translation"
    assert "091234567 → 37491234567" in step.detail and "rule 2" in step.detail
    assert [(r.stage, r.set_name, r.position, r.before, r.after) for r in d.rewrites] == [
        ("ingress", tset.name, 2, "091234567", "37491234567")
    ]
    assert d.as_dict()["rewrites"][0]["after"] == "37491234567"


def test_a_translation_that_makes_no_number_is_invalid_number_484(world):
    world.link("374")
    with_ingress(world, ("0([0-9]+)", r"\1\1\1", True))
    d = world.call("90123456789", explain=True)
    assert (d.reason, d.sip_code) == ("invalid_number", 484)
    step = next(s for s in d.steps if s.key == "translate")
    assert step.status == "fail" and "not 1–24 digits" in step.detail
    assert d.rule is None


def test_translation_comes_after_the_tech_prefix_check(world):
    world.link("374")
    with_ingress(world, ("([0-9]+)", "", True))
    assert world.call("8374123").reason == "tech_prefix_mismatch"


def test_no_rule_matching_leaves_the_number_as_sent(world):
    world.link("374")
    with_ingress(world, ("0([0-9]+)", r"374\1", True))
    d = world.call("937412345", explain=True)
    assert d.routed and d.number == "37412345"
    assert "unchanged" in next(s for s in d.steps if s.key == "translate").detail


# --- step 5b: number lists ------------------------------------------------------------------


def test_a_deny_list_that_matches_refuses_with_403_naming_the_list(world):
    world.link("")
    nl = number_list(world, entries=[("900", "prefix")], name="Premium")
    d = world.call("9900123", explain=True)
    assert (d.reason, d.sip_code, d.sip_reason) == ("number_blocked", 403, "Forbidden")
    assert d.as_dict()["number_list"] == {
        "id": nl.pk,
        "name": "Premium",
        "kind": "deny",
        "applies_to": "called",
    }
    step = next(s for s in d.steps if s.key == "lists")
    assert step.status == "fail" and "Premium" in step.detail and "prefix entry 900" in step.detail
    assert world.call("9901234").routed  # prefix 900 does not match 901…
    assert world.call("9374").routed


def test_exact_entries_block_only_that_number(world):
    world.link("")
    number_list(world, entries=[("37412345", "exact")])
    assert world.call("937412345").reason == "number_blocked"
    assert world.call("9374123456").routed
    assert world.call("93741234").routed


def test_an_allow_list_refuses_what_it_does_not_list(world):
    world.link("")
    number_list(world, kind="allow", entries=[("374", "prefix")])
    assert world.call("937412345").routed
    assert world.call("94412345").reason == "number_blocked"


def test_a_calling_list_checks_the_calling_number(world):
    world.link("")
    number_list(world, applies_to="calling", entries=[("37410", "prefix")])
    assert world.call("94412345", calling_number="+37410555").reason == "number_blocked"
    assert world.call("94412345", calling_number="37499555").routed
    d = world.call("94412345", calling_number="+37499555")
    assert d.calling_number == "37499555" and d.as_dict()["calling_number"] == "37499555"


def test_a_calling_list_without_a_calling_number_deny_passes_and_allow_refuses(world):
    world.link("")
    number_list(world, applies_to="calling", entries=[("999", "prefix")], name="deny")
    assert world.call("94412345").routed
    number_list(world, kind="allow", applies_to="calling", entries=[("374", "prefix")], name="a")
    d = world.call("94412345", explain=True)
    assert d.reason == "number_blocked" and d.number_list.name == "a"
    assert "no calling number given" in next(s for s in d.steps if s.key == "lists").detail
    assert world.call("94412345", calling_number="3741").routed


def test_lists_check_the_translated_number(world):
    world.link("")
    with_ingress(world, ("0([0-9]+)", r"900\1", True))
    number_list(world, entries=[("900", "prefix")])
    assert world.call("90123").reason == "number_blocked"


def test_lists_come_after_the_balance(world):
    world.link("")
    number_list(world, entries=[("4", "prefix")])
    Customer.objects.filter(pk=world.customer.pk).update(
        billing_type="prepaid", balance=Decimal("0")
    )
    assert world.call("94412345").reason == "insufficient_balance"


def test_a_malformed_calling_number_is_refused_as_input(world):
    world.link("")
    for bad in ("abc", "+", "1" * 25, "37 41", "٣٧٤", 374):
        with pytest.raises(CallingNumberError):
            world.call("94412345", calling_number=bad)
    assert world.call("94412345", calling_number="").calling_number is None


# --- schedules: rules (step 6) and targets (step 8) ---------------------------------------


def test_a_rule_outside_its_schedule_is_not_a_candidate(world):
    office = yerevan_office(world.tenant)
    r374, _ = world.link("374", schedule=office)
    catch_all, _ = world.link("")
    assert world.call("937412345", at=MON_1000_YEREVAN).rule.id == r374.id
    d = world.call("937412345", at=SAT_2300_YEREVAN, explain=True)
    assert d.rule.id == catch_all.id
    assert {c.rule.code: c.why for c in d.candidates}["374"] == "outside its schedule"
    step = next(s for s in d.steps if s.key == "candidates")
    assert "shut at this time: office (Sat 23:00 in Asia/Yerevan)" in step.detail


def test_a_target_outside_its_schedule_is_skipped(world):
    night = ScheduleFactory(tenant=world.tenant, timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=night, weekdays=[6], start=time(22), end=time(6))
    rule, _ = world.link("374")
    RoutingTarget.objects.filter(rule=rule).update(schedule=night)
    d = world.call("937412345", at=MON_1000_YEREVAN, explain=True)
    assert (d.reason, d.sip_code) == ("no_target", 503)
    assert [s.reason for s in d.skipped_targets] == ["outside its schedule"]
    step = next(s for s in d.steps if s.key == "targets")
    assert (
        step.detail
        == f"no usable target; shut at this time: {night.name} (Mon 10:00 in Asia/Yerevan)"
    )
    assert world.call("937412345", at=SAT_2300_YEREVAN).routed
    # Saturday's window runs past midnight: Sunday 05:00 in Yerevan is still open
    assert world.call("937412345", at=datetime(2026, 12, 6, 1, 0, tzinfo=UTC)).routed


def test_a_lone_network_target_with_a_schedule_is_honoured_live_and_explained(world):
    office = yerevan_office(world.tenant)
    rule = world.rule("374")
    RoutingTarget.objects.filter(rule=rule).delete()
    RoutingTargetFactory(rule=rule, network=world.network, client=None, schedule=office)
    DialpeerFactory(trunk=world.trunk, rule=rule)
    live = world.call("937412345", at=SAT_2300_YEREVAN)
    explained = world.call("937412345", at=SAT_2300_YEREVAN, explain=True)
    assert live.reason == explained.reason == "no_target"
    assert world.call("937412345", at=MON_1000_YEREVAN).routed


# --- egress translation ------------------------------------------------------------------


def test_each_target_dials_the_number_translated_by_its_networks_egress_set(world):
    rule, _ = world.link("374")
    world.client.sip_uri = "sip:10.8.0.1:5060"
    world.client.save()
    national = NetworkFactory(
        tenant=world.tenant,
        name="national",
        egress_translation=translation(world.tenant, ("374([0-9]+)", r"0\1", True), name="e"),
    )
    other = VMGateClientFactory(network=national, name="gw-b", sip_uri="sip:10.8.0.2:5060")
    RoutingTargetFactory(rule=rule, client=other)
    d = world.call("937491234567", explain=True)
    assert [(t.client.name, t.number) for t in d.targets] == [
        ("gw-a", "37491234567"),
        ("gw-b", "091234567"),
    ]
    assert contact_uris(d) == ["sip:37491234567@10.8.0.1:5060", "sip:091234567@10.8.0.2:5060"]
    assert d.number == "37491234567"  # the decision's own number is not the target's
    assert any(r.stage == "egress: national" and r.after == "091234567" for r in d.rewrites)
    assert (
        "egress e for national: 37491234567 → 091234567"
        in next(s for s in d.steps if s.key == "targets").detail
    )
    assert [t["number"] for t in d.as_dict()["targets"]] == ["37491234567", "091234567"]


def test_a_target_whose_egress_translation_makes_no_number_is_skipped(world):
    rule, _ = world.link("374")
    world.network.egress_translation = translation(world.tenant, ("([0-9]+)", "", True))
    world.network.save()
    d = world.call("937412345", explain=True)
    assert d.reason == "no_target"
    assert "not 1–24 digits" in d.skipped_targets[0].reason
    assert world.call("937412345").reason == "no_target"


# --- freshness: the very next decision sees each edit ------------------------------------


def test_every_policy_edit_is_seen_by_the_very_next_decision(world):
    world.link("")
    assert world.call("99001").routed
    nl = number_list(world, entries=[("900", "prefix")])
    assert world.call("99001").reason == "number_blocked"
    nl.entries.all().delete()
    assert world.call("99001").routed
    NumberListEntryFactory(number_list=nl, value="99", match="prefix")
    tset = with_ingress(world, ("9001", "991", True))
    assert world.call("99001").reason == "number_blocked"  # 9001 → 991, listed
    rule = tset.rules.get()
    rule.replace = "881"
    rule.save()
    assert world.call("99001").routed and world.call("99001").number == "881"
    TrunkNumberList.objects.filter(trunk=world.trunk).delete()
    world.trunk.ingress_translation = None
    world.trunk.save()
    assert world.call("99901").routed
