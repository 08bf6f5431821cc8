"""Bulk activate / deactivate of the selected rows: all or nothing, tenant-scoped."""

import pytest
from django.urls import reverse

from dialpeers.models import Dialpeer
from tests.factories import DialpeerFactory, RoutingRuleFactory, TrunkFactory

pytestmark = pytest.mark.django_db

BULK = "/dialpeers/bulk/"


def states(*dps):
    return [Dialpeer.objects.get(pk=d.pk).is_active for d in dps]


def messages_of(client, response):
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


@pytest.fixture
def trunk(tenant):
    return TrunkFactory(customer__tenant=tenant, name="acme-main")


def make(trunk, code, name, active=True, rule=None):
    if rule is None:
        rule = RoutingRuleFactory(tenant=trunk.tenant, code=code)
    return DialpeerFactory(
        trunk=trunk,
        customer=trunk.customer,
        tenant=trunk.tenant,
        rule=rule,
        name=name,
        is_active=active,
    )


def test_bulk_url_name():
    assert reverse("dialpeers:dialpeer_bulk") == BULK


def test_operator_deactivates_and_activates_selected_rows(op_client, operator, trunk):
    a, b, c = make(trunk, "374", "a"), make(trunk, "39", "b"), make(trunk, "44", "c")
    response = op_client.post(BULK, {"action": "deactivate", "pk": [a.pk, b.pk]})
    assert messages_of(op_client, response) == ["2 dialpeers deactivated."]
    assert states(a, b, c) == [False, False, True]
    assert Dialpeer.history.filter(id=a.pk).first().history_user == operator
    response = op_client.post(BULK, {"action": "activate", "pk": [a.pk, b.pk, c.pk]})
    assert messages_of(op_client, response) == ["2 dialpeers activated. 1 already active."]
    assert states(a, b, c) == [True, True, True]


def test_activation_that_would_route_a_code_twice_changes_nothing(op_client, trunk):
    live = make(trunk, "374", "AM main")
    backup = make(trunk, "374", "AM backup", active=False)
    other = make(trunk, "39", "IT", active=False)
    response = op_client.post(BULK, {"action": "activate", "pk": [backup.pk, other.pk]})
    [text] = messages_of(op_client, response)
    assert text.startswith("Nothing was activated: that would route one code twice on a trunk.")
    assert "“AM backup”: dialpeer “AM main” already routes code 374 on trunk “acme-main”." in (text)
    assert states(live, backup, other) == [True, False, False]


def test_activating_two_selected_rows_with_one_code_on_one_trunk_is_refused(op_client, trunk):
    one = make(trunk, "374", "AM one", active=False)
    two = make(trunk, "374", "AM two", active=False)
    response = op_client.post(BULK, {"action": "activate", "pk": [one.pk, two.pk]})
    [text] = messages_of(op_client, response)
    assert "“AM two”: dialpeer “AM one” already routes code 374" in text
    assert states(one, two) == [False, False]


def test_the_same_code_on_different_trunks_may_be_activated_together(op_client, tenant, trunk):
    other_trunk = TrunkFactory(customer=trunk.customer)
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    one = make(trunk, None, "one", active=False, rule=rule)
    two = make(other_trunk, None, "two", active=False, rule=rule)
    op_client.post(BULK, {"action": "activate", "pk": [one.pk, two.pk]})
    assert states(one, two) == [True, True]


def test_bulk_never_touches_another_tenants_rows(op_client, other_tenant, trunk):
    theirs = DialpeerFactory(trunk__customer__tenant=other_tenant, rule__tenant=other_tenant)
    mine = make(trunk, "374", "mine")
    response = op_client.post(BULK, {"action": "deactivate", "pk": [theirs.pk, mine.pk]})
    assert messages_of(op_client, response) == ["1 dialpeer deactivated."]
    assert states(theirs, mine) == [True, False]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "activate"}, "Select at least one dialpeer first."),
        (
            {"action": "activate", "pk": ["abc", "\x00", "-1"]},
            "Select at least one dialpeer first.",
        ),
        ({"action": "explode", "pk": ["1"]}, "Choose Activate or Deactivate."),
        ({"pk": ["1"]}, "Choose Activate or Deactivate."),
    ],
)
def test_bad_bulk_requests_are_explained(op_client, trunk, data, message):
    dp = make(trunk, "374", "x")
    assert messages_of(op_client, op_client.post(BULK, data)) == [message]
    assert states(dp) == [True]


def test_bulk_keeps_the_list_filters(op_client, trunk):
    dp = make(trunk, "374", "x")
    response = op_client.post(
        BULK, {"action": "deactivate", "pk": [dp.pk], "query": "status=active&q=x\r\nSet: y"}
    )
    assert response["Location"].startswith("/dialpeers/?status=active&q=x")
    assert "\n" not in response["Location"]


def test_viewer_cannot_bulk_change(viewer_client, trunk):
    dp = make(trunk, "374", "x")
    assert viewer_client.post(BULK, {"action": "deactivate", "pk": [dp.pk]}).status_code == 403
    assert states(dp) == [True]
    body = viewer_client.get("/dialpeers/").content.decode()
    assert "bulk-form" not in body and 'name="pk"' not in body


def test_bulk_get_is_not_allowed(op_client):
    assert op_client.get(BULK).status_code == 405
