"""Property test: route_call (live and explain) against a brute-force oracle over random
prefix sets, dialpeer and rule states, scopes and numbers, on real PostgreSQL."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import TrunkNumberList
from dialpeers.models import Dialpeer
from routing.engine import route_call
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NumberListEntryFactory,
    NumberListFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    ScheduleFactory,
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TranslationSetFactory,
    TrunkFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db


def oracle(trunk, number):
    """The longest eligible code by brute force over every dialpeer of the trunk."""
    best = None
    for dp in Dialpeer.objects.filter(trunk=trunk).select_related("rule"):
        rule = dp.rule
        if not (dp.is_active and rule.is_active and dp.customer_id == trunk.customer_id):
            continue
        if rule.trunk_id not in (None, trunk.id):
            continue
        if not number.startswith(rule.code):
            continue
        key = (len(rule.code), 1 if rule.trunk_id else 0, -dp.id)
        if best is None or key > best[0]:
            best = (key, dp)
    return best[1] if best else None


rows = st.lists(
    st.tuples(
        st.text(alphabet="0123", max_size=4),  # code
        st.booleans(),  # dialpeer active
        st.booleans(),  # rule active
        st.sampled_from(["none", "this", "other"]),  # rule scope
    ),
    max_size=10,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=rows,
    numbers=st.lists(st.text(alphabet="0123", min_size=1, max_size=6), min_size=1, max_size=5),
)
def test_route_call_agrees_with_a_brute_force_oracle(tenant, rows, numbers):
    customer = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=customer, tech_prefix="#")
    other = TrunkFactory(customer=customer, tech_prefix="*")
    client = VMGateClientFactory(network__tenant=tenant)
    active_codes = set()  # the database holds one active dialpeer per code per trunk
    for code, dp_active, rule_active, scope in rows:
        dp_active = dp_active and code not in active_codes
        if dp_active:
            active_codes.add(code)
        rule = RoutingRuleFactory(
            tenant=tenant,
            code=code,
            is_active=rule_active,
            trunk={"none": None, "this": trunk, "other": other}[scope],
        )
        RoutingTargetFactory(rule=rule, client=client)
        DialpeerFactory(trunk=trunk, rule=rule, is_active=dp_active)
    mismatches = []
    for number in numbers:
        expected = oracle(trunk, number)
        for explain in (False, True):
            d = route_call(tenant, called_number="#" + number, trunk=trunk, explain=explain)
            got = d.dialpeer.id if d.dialpeer else None
            if got != (expected.id if expected else None):
                mismatches.append((number, explain, got, expected))
            if expected is None:
                assert d.reason == "no_route"
            else:
                assert d.routed and d.rule.id == expected.rule_id
    assert mismatches == []


# --- with routing policy (SPEC §9): ingress translation, a number list, rule schedules --

# Safe patterns and replacements; "2" → "" makes a result that is no number.
PATTERNS = [
    ("0([0-9]*)", r"\1"),
    ("([0-9])([0-9]*)", r"\2\1"),
    ("1([0-9]+)", r"22\1"),
    ("([0-9]+)", r"3\1"),
    ("2", ""),
]
MORNINGS = ([1, 2, 3, 4, 5], 6, 12)  # weekdays 06:00–12:00 UTC


def oracle_translate(rules, number):
    """SPEC §9 by hand: first whole-number match replaces; stop ends; a result that is
    not 1–24 digits is no number (None)."""
    for (match, replace), stop in rules:
        m = re.fullmatch(match, number)
        if m is None:
            continue
        number = m.expand(replace)
        if not re.fullmatch("[0-9]{1,24}", number):
            return None
        if stop:
            break
    return number


def oracle_listed(entries, number):
    return any(number == v if how == "exact" else number.startswith(v) for v, how in entries)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(st.text(alphabet="0123", max_size=3), st.booleans()),  # code, scheduled
        max_size=6,
    ),
    trules=st.lists(st.tuples(st.sampled_from(PATTERNS), st.booleans()), max_size=3),
    entries=st.lists(
        st.tuples(
            st.text(alphabet="0123", min_size=1, max_size=3),
            st.sampled_from(["prefix", "exact"]),
        ),
        max_size=4,
        unique=True,
    ),
    list_kind=st.sampled_from([None, "deny", "allow"]),
    numbers=st.lists(st.text(alphabet="0123", min_size=1, max_size=6), min_size=1, max_size=4),
    hour_of_week=st.integers(min_value=0, max_value=7 * 24 - 1),
)
def test_route_call_with_policy_agrees_with_an_oracle(
    tenant, rows, trules, entries, list_kind, numbers, hour_of_week
):
    customer = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=customer, tech_prefix="#")
    if trules:
        tset = TranslationSetFactory(tenant=tenant)
        for position, ((match, replace), stop) in enumerate(trules, start=1):
            TranslationRuleFactory(
                translation_set=tset, position=position, match=match, replace=replace, stop=stop
            )
        trunk.ingress_translation = tset
        trunk.save()
    if list_kind:
        nl = NumberListFactory(tenant=tenant, kind=list_kind)
        for value, how in entries:
            NumberListEntryFactory(number_list=nl, value=value, match=how)
        TrunkNumberList.objects.create(trunk=trunk, number_list=nl)
    days, start, end = MORNINGS
    mornings = ScheduleFactory(tenant=tenant, timezone="UTC")
    ScheduleWindowFactory(schedule=mornings, weekdays=days, start=time(start), end=time(end))
    client = VMGateClientFactory(network__tenant=tenant)
    linked = {}
    for code, scheduled in rows:
        if code in linked:
            continue  # one active dialpeer per code per trunk
        rule = RoutingRuleFactory(
            tenant=tenant, code=code, schedule=mornings if scheduled else None
        )
        RoutingTargetFactory(rule=rule, client=client)
        linked[code] = (rule, scheduled)
    for rule, _ in linked.values():
        DialpeerFactory(trunk=trunk, rule=rule)
    at = datetime(2026, 12, 7, tzinfo=UTC) + timedelta(hours=hour_of_week)  # from a Monday
    is_open = at.isoweekday() in days and start <= at.hour < end
    for number in numbers:
        translated = oracle_translate(trules, number)
        if translated is None:
            want = ("invalid_number", None)
        elif list_kind and oracle_listed(entries, translated) == (list_kind == "deny"):
            want = ("number_blocked", None)
        else:
            fits = [
                (len(code), rule.id)
                for code, (rule, scheduled) in linked.items()
                if translated.startswith(code) and (is_open or not scheduled)
            ]
            want = ("routed", max(fits)[1]) if fits else ("no_route", None)
        for explain in (False, True):
            d = route_call(tenant, called_number="#" + number, trunk=trunk, at=at, explain=explain)
            got = (d.reason, d.rule.id if d.rule else None)
            assert got == want, (number, translated, explain, d.steps if explain else None)
            if translated is not None:
                assert d.number == translated
