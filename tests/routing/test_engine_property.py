"""Property test: route_call (live and explain) against a brute-force oracle over random
prefix sets, dialpeer and rule states, scopes and numbers, on real PostgreSQL."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialpeers.models import Dialpeer
from routing.engine import route_call
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
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
