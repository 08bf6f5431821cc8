"""Invariants of Dialpeer (SPEC §3)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dialpeers.models import Dialpeer
from tests.factories import CustomerFactory, DialpeerFactory, RoutingRuleFactory, TrunkFactory

pytestmark = pytest.mark.django_db


def errors_of(obj):
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return exc.value.message_dict


def test_a_duplicate_dialpeer_is_a_validation_error_naming_the_existing_one():
    existing = DialpeerFactory(name="Acme → Armenia")
    dup = Dialpeer(
        tenant=existing.tenant,
        name="again",
        customer=existing.customer,
        trunk=existing.trunk,
        rule=existing.rule,
    )
    errs = errors_of(dup)
    assert any("Acme → Armenia" in m for m in errs["__all__"])
    assert len(errs["__all__"]) == 1


def test_the_database_refuses_a_duplicate_when_validation_is_bypassed():
    existing = DialpeerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Dialpeer.objects.create(
            tenant=existing.tenant,
            name="again",
            customer=existing.customer,
            trunk=existing.trunk,
            rule=existing.rule,
        )


def test_several_dialpeers_may_link_one_trunk_to_different_rules():
    first = DialpeerFactory(rule__code="374")
    rule = RoutingRuleFactory(tenant=first.tenant, code="39")
    Dialpeer(
        tenant=first.tenant, name="it", customer=first.customer, trunk=first.trunk, rule=rule
    ).full_clean()


def test_the_trunk_must_belong_to_the_origin_customer(tenant):
    trunk = TrunkFactory(tenant=tenant, customer__tenant=tenant)
    other_customer = CustomerFactory(tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant)
    dp = Dialpeer(tenant=tenant, name="x", customer=other_customer, trunk=trunk, rule=rule)
    assert "trunk" in errors_of(dp)


def test_a_rule_scoped_to_another_trunk_cannot_be_linked(tenant):
    trunk = TrunkFactory(tenant=tenant, customer__tenant=tenant)
    other = TrunkFactory(tenant=tenant, customer=trunk.customer)
    rule = RoutingRuleFactory(tenant=tenant, trunk=other)
    dp = Dialpeer(tenant=tenant, name="x", customer=trunk.customer, trunk=trunk, rule=rule)
    assert "rule" in errors_of(dp)


def test_a_rule_scoped_to_this_trunk_can_be_linked(tenant):
    trunk = TrunkFactory(tenant=tenant, customer__tenant=tenant)
    rule = RoutingRuleFactory(tenant=tenant, trunk=trunk)
    Dialpeer(tenant=tenant, name="x", customer=trunk.customer, trunk=trunk, rule=rule).full_clean()


def test_one_trunk_cannot_have_two_active_dialpeers_for_the_same_code():
    first = DialpeerFactory(rule__code="374", name="AM main")
    rule = RoutingRuleFactory(tenant=first.tenant, code="374")
    dp = Dialpeer(
        tenant=first.tenant, name="AM backup", customer=first.customer, trunk=first.trunk, rule=rule
    )
    assert "AM main" in errors_of(dp)["rule"][0]
    dp.is_active = False
    dp.full_clean()


@pytest.mark.parametrize("field", ["customer", "trunk", "rule"])
def test_any_reference_to_another_tenant_is_a_validation_error(tenant, other_tenant, field):
    trunk = TrunkFactory(tenant=tenant, customer__tenant=tenant)
    values = {"customer": trunk.customer, "trunk": trunk, "rule": RoutingRuleFactory(tenant=tenant)}
    theirs = TrunkFactory(tenant=other_tenant, customer__tenant=other_tenant)
    values[field] = {
        "customer": theirs.customer,
        "trunk": theirs,
        "rule": RoutingRuleFactory(tenant=other_tenant),
    }[field]
    dp = Dialpeer(tenant=tenant, name="x", **values)
    assert errors_of(dp)[field] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]


def test_removing_a_dialpeer_leaves_customer_trunk_and_rule():
    dp = DialpeerFactory()
    customer, trunk, rule = dp.customer, dp.trunk, dp.rule
    dp.delete()
    for obj in (customer, trunk, rule):
        obj.refresh_from_db()


def test_a_trunk_used_by_dialpeers_cannot_be_deleted():
    from django.db.models import ProtectedError

    dp = DialpeerFactory()
    with pytest.raises(ProtectedError):
        dp.trunk.delete()
