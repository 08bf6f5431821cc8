"""``Dialpeer.code`` (the rule's code, kept by triggers) and the partial unique index
``dialpeer_one_active_code_per_trunk``: the database itself refuses a second active
dialpeer for one code on a trunk, whoever writes, on PostgreSQL and on SQLite."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dialpeers.models import Dialpeer
from routing.models import RoutingRule
from tests.factories import DialpeerFactory, RoutingRuleFactory, TrunkFactory
from tests.race import api_client

pytestmark = pytest.mark.django_db


def code_of(dialpeer):
    return Dialpeer.objects.values_list("code", flat=True).get(pk=dialpeer.pk)


@pytest.fixture
def op_api(operator):
    return api_client(operator)


@pytest.fixture
def trunk(tenant):
    return TrunkFactory(customer__tenant=tenant, name="acme-main")


def test_the_copy_follows_the_rule_whoever_writes(trunk):
    dp = DialpeerFactory(trunk=trunk, rule__code="374")
    assert code_of(dp) == "374"
    RoutingRule.objects.filter(pk=dp.rule_id).update(code="375")  # no save(), no signal
    assert code_of(dp) == "375"
    other = RoutingRuleFactory(tenant=trunk.tenant, code="")
    Dialpeer.objects.filter(pk=dp.pk).update(rule=other)
    assert code_of(dp) == ""
    # A writer cannot set the copy to something else.
    Dialpeer.objects.filter(pk=dp.pk).update(code="999")
    assert code_of(dp) == ""


def test_the_database_refuses_a_second_active_dialpeer_for_a_code(trunk):
    DialpeerFactory(trunk=trunk, rule__code="374")
    second = DialpeerFactory(trunk=trunk, rule__code="374", is_active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dialpeer.objects.filter(pk=second.pk).update(is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        DialpeerFactory(trunk=trunk, rule__code="374")
    # Another trunk, or an inactive one, is fine.
    DialpeerFactory(trunk=TrunkFactory(customer=trunk.customer), rule__code="374")
    DialpeerFactory(trunk=trunk, rule__code="374", is_active=False)


def test_the_database_refuses_a_rule_code_change_that_routes_a_code_twice(trunk):
    DialpeerFactory(trunk=trunk, rule__code="374")
    moving = DialpeerFactory(trunk=trunk, rule__code="375")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.filter(pk=moving.rule_id).update(code="374")
    assert code_of(moving) == "375"


def test_an_api_rule_edit_that_would_clash_is_a_400_naming_the_dialpeer(trunk, op_api):
    DialpeerFactory(trunk=trunk, rule__code="374", name="Armenia main")
    moving = DialpeerFactory(trunk=trunk, rule__code="375")
    response = op_api.patch(
        f"/api/v1/routing-rules/{moving.rule_id}/", {"code": "374"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": [
            "This would route one code twice: trunk acme-main already routes code 374 "
            "through dialpeer “Armenia main”."
        ]
    }
    assert RoutingRule.objects.get(pk=moving.rule_id).code == "375"


def test_an_admin_rule_edit_that_would_clash_is_a_form_error_naming_the_dialpeer(
    trunk, staff_client
):
    DialpeerFactory(trunk=trunk, rule__code="374", name="Armenia main")
    moving = DialpeerFactory(trunk=trunk, rule__code="375")
    response = staff_client.post(
        reverse("admin:routing_routingrule_change", args=[moving.rule_id]),
        {
            "tenant": trunk.tenant_id,
            "code": "374",
            "label": "x",
            "assignment": "weight",
            "trunk": "",
            "is_active": "on",
            "targets-TOTAL_FORMS": 0,
            "targets-INITIAL_FORMS": 0,
            "_save": "Save",
        },
    )
    assert response.status_code == 200
    assert "already routes code 374 through dialpeer “Armenia main”" in (response.content.decode())


def test_an_api_activation_that_would_clash_is_a_400_naming_the_dialpeer(trunk, op_api):
    DialpeerFactory(trunk=trunk, rule__code="374", name="Armenia main")
    idle = DialpeerFactory(trunk=trunk, rule__code="374", is_active=False)
    response = op_api.patch(f"/api/v1/dialpeers/{idle.pk}/", {"is_active": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "rule": ["Dialpeer “Armenia main” already routes code 374 on trunk “acme-main”."]
    }


def test_one_edit_may_change_the_rule_and_activate_at_once(trunk, op_client):
    """The saved row is judged with its new rule's code (SQLite included, where the
    triggers correct the row only after the write)."""
    DialpeerFactory(trunk=trunk, rule__code="374")
    idle = DialpeerFactory(trunk=trunk, rule__code="374", is_active=False, name="idle")
    other = RoutingRuleFactory(tenant=trunk.tenant, code="375")
    response = op_client.post(
        reverse("dialpeers:dialpeer_edit", args=[idle.pk]),
        {
            "name": "idle",
            "customer": trunk.customer_id,
            "trunk": trunk.pk,
            "rule": other.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    idle.refresh_from_db()
    assert (idle.is_active, idle.code) == (True, "375")
