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


def test_the_test_call_asks_a_calling_number_and_a_time(page, login, shot, operator, tenant):
    """SPEC §9 on the test-call page: a national number is translated, a barred caller is
    refused naming the list, and Saturday 23:00 in Yerevan falls outside the rule's
    schedule; a malformed calling number is a visible field error."""
    from datetime import time

    from customers.models import TrunkNumberList
    from tests.factories import (
        NumberListEntryFactory,
        NumberListFactory,
        ScheduleFactory,
        ScheduleWindowFactory,
        TranslationRuleFactory,
        TranslationSetFactory,
    )

    customer = CustomerFactory(tenant=tenant, name="Armentel Wholesale")
    tset = TranslationSetFactory(tenant=tenant, name="Armenia national")
    TranslationRuleFactory(translation_set=tset, position=1, match="0([0-9]+)", replace=r"374\1")
    trunk = TrunkFactory(
        customer=customer, name="armentel-sbc-1", tech_prefix="77", ingress_translation=tset
    )
    callers = NumberListFactory(tenant=tenant, name="Barred callers", applies_to="calling")
    NumberListEntryFactory(number_list=callers, value="37410", match="prefix")
    TrunkNumberList.objects.create(trunk=trunk, number_list=callers)
    office = ScheduleFactory(tenant=tenant, name="Office", timezone="Asia/Yerevan")
    ScheduleWindowFactory(schedule=office, weekdays=[1, 2, 3, 4, 5], start=time(9), end=time(18))
    rule = RoutingRuleFactory(tenant=tenant, code="374", schedule=office)
    client = VMGateClientFactory(network=NetworkFactory(tenant=tenant), name="gw-yerevan-1")
    RoutingTargetFactory(rule=rule, client=client)
    DialpeerFactory(trunk=trunk, rule=rule, name="Armentel → 374")

    login("op-a")
    page.goto("/routing/test-call/")
    selects.pick(page, "id_customer", "Armentel Wholesale", text="Armentel")
    page.wait_for_function(f"document.querySelector('#id_trunk').value === '{trunk.pk}'")
    page.fill("input[name=called_number]", "77 091 234 567")
    page.fill("input[name=calling_number]", "anonymous")
    page.fill("input[name=at]", "2026-12-07 08:00")
    page.get_by_role("button", name="Route this call").click()
    error = page.get_by_text("Enter an optional + and 1–24 digits 0-9.").first
    error.wait_for()
    assert error.is_visible()
    settled(page)
    shot(page, "test-call-bad-calling-number")

    page.fill("input[name=calling_number]", "+374 99 555 123")
    page.get_by_role("button", name="Route this call").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=outcome]')?.innerText.includes('Routed → 302')"
    )
    settled(page)
    rewrites = page.get_by_test_id("rewrites")
    assert rewrites.is_visible()
    assert "is-invalid" not in (page.get_attribute("input[name=calling_number]", "class") or "")
    assert "091234567" in rewrites.inner_text() and "37491234567" in rewrites.inner_text()
    assert page.get_by_test_id("target-number").first.inner_text() == "37491234567"
    shot(page, "test-call-translated")

    page.fill("input[name=calling_number]", "37410555")
    page.get_by_role("button", name="Route this call").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=outcome]')?.innerText.includes('number blocked')"
    )
    settled(page)
    assert page.get_by_test_id("blocked-by").is_visible()
    assert "Barred callers" in page.get_by_test_id("blocked-by").inner_text()
    shot(page, "test-call-number-blocked")

    page.fill("input[name=calling_number]", "")
    page.fill("input[name=at]", "2026-12-05 19:00")  # Saturday 23:00 in Yerevan
    page.get_by_role("button", name="Route this call").click()
    page.wait_for_function(
        "document.querySelector('[data-testid=outcome]')?.innerText.includes('no route')"
    )
    settled(page)
    candidates = page.get_by_test_id("candidates")
    assert candidates.is_visible() and "outside its schedule" in candidates.inner_text()
    page.reload()
    page.get_by_test_id("outcome").wait_for()
    assert "no route" in page.get_by_test_id("outcome").inner_text()
    shot(page, "test-call-outside-schedule")
