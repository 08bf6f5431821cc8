"""Every refusal of the dialpeer form, in plain words, never a 500, nothing stored."""

import re

import pytest
from django.urls import reverse

from dialpeers.models import Dialpeer
from tests.factories import CustomerFactory, DialpeerFactory, RoutingRuleFactory, TrunkFactory

pytestmark = pytest.mark.django_db

INVALID = "Select a valid choice. That choice is not one of the available choices."


def post_add(client, **data):
    return client.post(reverse("dialpeers:dialpeer_add"), data)


def refused(response):
    """The form's errors as plain text; asserts the page re-rendered (not saved, not 500)."""
    assert response.status_code == 200
    return {
        k: [re.sub("<[^>]+>", "", str(m)) for m in v]
        for k, v in response.context["form"].errors.items()
    }


@pytest.fixture
def acme(tenant):
    return TrunkFactory(customer__tenant=tenant, customer__name="Acme", name="acme-main")


def test_the_same_combination_twice_names_and_links_the_existing_dialpeer(op_client, acme):
    existing = DialpeerFactory(
        trunk=acme,
        customer=acme.customer,
        tenant=acme.tenant,
        rule__tenant=acme.tenant,
        name="Acme → Armenia",
    )
    response = post_add(
        op_client, name="again", customer=acme.customer_id, trunk=acme.pk, rule=existing.rule_id
    )
    errors = refused(response)
    assert errors == {
        "__all__": [
            "Dialpeer “Acme → Armenia” already links this origin customer, routing rule and "
            "trunk. Edit that one, or pick another rule."
        ]
    }
    assert f'<a href="/dialpeers/{existing.pk}/">“Acme → Armenia”</a>' in (
        response.content.decode()
    )
    assert Dialpeer.objects.count() == 1


def test_an_inactive_duplicate_is_refused_too(op_client, acme):
    existing = DialpeerFactory(
        trunk=acme,
        customer=acme.customer,
        tenant=acme.tenant,
        rule__tenant=acme.tenant,
        is_active=False,
        name="Old",
    )
    errors = refused(
        post_add(
            op_client, name="again", customer=acme.customer_id, trunk=acme.pk, rule=existing.rule_id
        )
    )
    assert "Dialpeer “Old” already links" in errors["__all__"][0]


def test_a_trunk_of_another_customer_is_refused_naming_its_customer(op_client, tenant, acme):
    beta_trunk = TrunkFactory(customer__tenant=tenant, customer__name="Beta", name="beta-main")
    rule = RoutingRuleFactory(tenant=tenant)
    errors = refused(
        post_add(op_client, name="x", customer=acme.customer_id, trunk=beta_trunk.pk, rule=rule.pk)
    )
    assert errors == {
        "trunk": [
            "Trunk “beta-main” belongs to customer “Beta”, not to the origin customer chosen. "
            "Pick one of that customer's trunks."
        ]
    }
    assert not Dialpeer.objects.exists()


def test_a_rule_scoped_to_another_trunk_is_refused(op_client, tenant, acme):
    other = TrunkFactory(customer=acme.customer, name="acme-backup")
    rule = RoutingRuleFactory(tenant=tenant, code="39", trunk=other)
    errors = refused(
        post_add(op_client, name="x", customer=acme.customer_id, trunk=acme.pk, rule=rule.pk)
    )
    assert errors == {
        "rule": [
            "Rule 39 — Italy is scoped to trunk “acme-backup”; it can only be linked on that trunk."
        ]
    }


def test_a_second_active_dialpeer_for_the_same_code_on_a_trunk_names_the_first(
    op_client, tenant, acme
):
    DialpeerFactory(
        trunk=acme,
        customer=acme.customer,
        tenant=tenant,
        rule__tenant=tenant,
        rule__code="374",
        name="AM main",
    )
    other_rule = RoutingRuleFactory(tenant=tenant, code="374", label="Armenia backup")
    errors = refused(
        post_add(
            op_client,
            name="AM backup",
            customer=acme.customer_id,
            trunk=acme.pk,
            rule=other_rule.pk,
        )
    )
    assert errors == {"rule": ["Dialpeer “AM main” already routes code 374 on trunk “acme-main”."]}


def test_the_same_code_may_be_linked_inactive_and_then_not_activated(op_client, tenant, acme):
    first = DialpeerFactory(
        trunk=acme,
        customer=acme.customer,
        tenant=tenant,
        rule__tenant=tenant,
        rule__code="374",
        name="AM main",
    )
    other_rule = RoutingRuleFactory(tenant=tenant, code="374", label="Armenia backup")
    backup = DialpeerFactory(
        trunk=acme,
        customer=acme.customer,
        tenant=tenant,
        rule=other_rule,
        name="AM backup",
        is_active=False,
    )
    response = op_client.post(
        reverse("dialpeers:dialpeer_edit", args=[backup.pk]),
        {
            "name": "AM backup",
            "customer": acme.customer_id,
            "trunk": acme.pk,
            "rule": other_rule.pk,
            "is_active": "on",
        },
    )
    assert refused(response)["rule"] == [
        "Dialpeer “AM main” already routes code 374 on trunk “acme-main”."
    ]
    backup.refresh_from_db()
    assert not backup.is_active and first.is_active


@pytest.mark.parametrize("field", ["customer", "trunk", "rule"])
def test_another_tenants_ids_are_select_a_valid_choice(
    op_client, tenant, other_tenant, acme, field
):
    rule = RoutingRuleFactory(tenant=tenant)
    theirs = DialpeerFactory(trunk__customer__tenant=other_tenant, rule__tenant=other_tenant)
    data = {"name": "x", "customer": acme.customer_id, "trunk": acme.pk, "rule": rule.pk}
    data[field] = getattr(theirs, f"{field}_id")
    errors = refused(post_add(op_client, **data))
    assert errors[field] == [INVALID]
    assert not Dialpeer.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("value", ["", "abc", "\x00", "-1", "1.5", "999999999", "9" * 30])
@pytest.mark.parametrize("field", ["customer", "trunk", "rule"])
def test_garbage_ids_are_field_errors(op_client, tenant, acme, field, value):
    rule = RoutingRuleFactory(tenant=tenant)
    data = {"name": "x", "customer": acme.customer_id, "trunk": acme.pk, "rule": rule.pk}
    data[field] = value
    errors = refused(post_add(op_client, **data))
    assert field in errors
    assert not Dialpeer.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 201])
def test_bad_display_names_are_field_errors(op_client, tenant, acme, name):
    rule = RoutingRuleFactory(tenant=tenant)
    errors = refused(
        post_add(op_client, name=name, customer=acme.customer_id, trunk=acme.pk, rule=rule.pk)
    )
    assert "name" in errors


def test_a_customer_change_without_a_trunk_change_is_refused_on_edit(op_client, tenant, acme):
    dp = DialpeerFactory(trunk=acme, customer=acme.customer, tenant=tenant, rule__tenant=tenant)
    beta = CustomerFactory(tenant=tenant, name="Beta")
    errors = refused(
        op_client.post(
            reverse("dialpeers:dialpeer_edit", args=[dp.pk]),
            {"name": dp.name, "customer": beta.pk, "trunk": acme.pk, "rule": dp.rule_id},
        )
    )
    assert "belongs to customer “Acme”" in errors["trunk"][0]
    dp.refresh_from_db()
    assert dp.customer == acme.customer
