"""The manual's example as a test call in a real browser: pick the customer, then its
trunk (dependent dropdown), type numbers with spaces, read the decision, save a check."""

import pytest

from routing.models import RoutingCheck
from tests.e2e import selects
from tests.e2e.htmx import settled
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    VMGateClientFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manual_example_in_the_test_call_page(page, login, shot, operator, tenant):
    customer = CustomerFactory(tenant=tenant, name="Armentel Wholesale")
    CustomerFactory(tenant=tenant, name="Other carrier")
    trunk = TrunkFactory(customer=customer, name="armentel-sbc-1", tech_prefix="77")
    client = VMGateClientFactory(network=NetworkFactory(tenant=tenant), name="gw-yerevan-1")
    for code in ("374", "39"):
        rule = RoutingRuleFactory(tenant=tenant, code=code)
        RoutingTargetFactory(rule=rule, client=client, weight=10)
        DialpeerFactory(trunk=trunk, rule=rule, name=f"Armentel → {code}")

    login("op-a")
    page.goto("/")
    page.get_by_role("link", name="Test call").click()
    page.wait_for_url("**/routing/test-call/")
    url = page.url
    selects.pick(page, "id_customer", "Armentel Wholesale", text="Armentel")
    # Armentel has one trunk: it is picked for you.
    page.wait_for_function(f"document.querySelector('#id_trunk').value === '{trunk.pk}'")
    assert selects.chosen(page, "id_trunk") == "armentel-sbc-1 (prefix 77)"
    assert page.url == url  # searching never changes the page's address
    page.fill("input[name=called_number]", "77 374 123-45")
    page.get_by_role("button", name="Route this call").click()
    outcome = page.get_by_test_id("outcome")
    outcome.wait_for()
    settled(page)
    assert "Routed → 302" in outcome.inner_text()
    assert page.get_by_test_id("chosen-rule").inner_text() == "374 — Armenia"
    assert "7737412345" in page.get_by_test_id("number-used").inner_text()
    shot(page, "test-call-routed-374")

    page.fill("input[name=called_number]", "773912345")
    page.get_by_role("button", name="Route this call").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=chosen-rule]')?.innerText === '39 — Italy'"
    )

    page.fill("input[name=called_number]", "774412345")
    page.get_by_role("button", name="Route this call").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=outcome]')?.innerText.includes('Rejected: no route → 404')"
    )
    settled(page)
    shot(page, "test-call-no-route")
    page.get_by_role("button", name="Save as check").click()
    page.wait_for_url("**/routing/checks/")
    assert RoutingCheck.objects.get(tenant=tenant).expected_reason == "no_route"
    assert "pass" in page.locator("table").inner_text()
    shot(page, "routing-checks")
