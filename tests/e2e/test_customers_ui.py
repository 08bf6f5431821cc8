"""Customers, trunks and destinations in a real browser (Debian chromium via Playwright)."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from customers.models import Customer, Rate, Trunk
from tests.e2e import selects
from tests.factories import RateFactory, RatePlanFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_creates_a_customer_then_a_trunk_fixing_a_wrong_ip_then_blocks_it(
    page, login, shot, operator, tenant
):
    login("op-a")
    page.click(".sidebar >> text=Customers")
    page.click("text=+ Add customer")
    page.fill("#id_name", "Acme Telecom")
    # The searchable country select: typing narrows the list and picks the match.
    selects.search(page, "id_country", "armen")
    assert selects.options(page, "id_country") == ["Armenia"]
    page.keyboard.press("Enter")
    expect(page.locator("#id_country")).to_have_value("AM")
    page.fill("#id_email", "noc@acme.example")
    # Postpaid terms appear only for postpaid customers.
    expect(page.locator("#postpaid-fields")).to_be_hidden()
    page.select_option("#id_billing_type", "postpaid")
    expect(page.locator("#postpaid-fields")).to_be_visible()
    page.fill("#id_credit_limit", "250")
    shot(page, "customers-add-form")
    page.click("button[type=submit]:has-text('Add Customer')")
    expect(page.locator("h1")).to_contain_text("Acme Telecom")
    shot(page, "customers-detail")
    customer = Customer.objects.get(name="Acme Telecom")
    assert (customer.country.code, customer.billing_type) == ("AM", "postpaid")

    # + Add trunk from the customer's page: the customer is preselected.
    page.click("text=+ Add trunk")
    expect(page.locator("h1")).to_have_text("Add SIP Trunk")
    expect(page.locator("#id_customer")).to_have_value(str(customer.pk))
    page.fill("#id_name", "sbc-east")
    page.fill("#id_tech_prefix", "77")
    page.fill("#id_networks-0-network", "198.51.100.7/24")
    page.click("#add-network")
    page.fill("#id_networks-1-network", "203.0.113.10")
    page.click("button[type=submit]:has-text('Add trunk')")
    error = page.get_by_test_id("network-error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("did you mean 198.51.100.0/24?")
    # Both typed rows are still there; nothing was saved.
    expect(page.locator("#id_networks-1-network")).to_have_value("203.0.113.10")
    assert not Trunk.objects.exists()
    shot(page, "trunks-add-form-ip-error")
    page.fill("#id_networks-0-network", "198.51.100.0/24")
    page.click("button[type=submit]:has-text('Add trunk')")
    expect(page.get_by_test_id("trunk-networks")).to_contain_text("198.51.100.0/24")
    expect(page.get_by_test_id("trunk-networks")).to_contain_text("203.0.113.10/32")
    shot(page, "trunks-detail")

    page.click(".sidebar >> text=Trunks")
    expect(page.locator("table")).to_contain_text("sbc-east")
    shot(page, "trunks-list")

    # Block from the ⋮ menu, confirming the browser dialog; the status column changes.
    page.click(".sidebar >> text=Customers")
    row = page.locator("tr", has_text="Acme Telecom")
    expect(row.get_by_test_id("customer-status")).to_have_text("Active")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Actions").click()
    shot(page, "customers-list-menu")
    row.get_by_role("button", name="Block").click()
    row = page.locator("tr", has_text="Acme Telecom")
    expect(row.get_by_test_id("customer-status")).to_have_text("Blocked")
    shot(page, "customers-list-blocked")
    customer.refresh_from_db()
    assert customer.status == Customer.BLOCKED
    # Delete is disabled with the reason while the trunk exists.
    row.get_by_role("button", name="Actions").click()
    expect(row.locator(".dropdown-item.disabled")).to_contain_text("It has 1 trunk")


def test_destination_description_fills_from_the_dialplan_on_blur(
    page, login, shot, operator, tenant
):
    plan = RatePlanFactory(tenant=tenant, name="Retail")
    RateFactory(rate_plan=plan, code="374", valid_since=datetime(2025, 1, 1, tzinfo=UTC))
    RateFactory(rate_plan=plan, code="374", valid_since=datetime(2026, 1, 1, tzinfo=UTC))
    login("op-a")
    page.click(".sidebar >> text=Rate plans")
    shot(page, "rateplans-list")
    page.locator("tr", has_text="Retail").get_by_role("button", name="Actions").click()
    page.click("text=View destinations")
    expect(page.locator("table")).to_contain_text("superseded")
    shot(page, "destinations-list")
    page.click("text=+ Add destination")
    # htmx binds the code field's blur on load: typing before that would go unheard.
    page.wait_for_load_state("load")
    page.fill("#id_code", "33")
    page.locator("#id_code").blur()
    expect(page.locator("#id_description")).to_have_value("France")
    page.fill("#id_valid_since", "2026-02-01T00:00")
    page.fill("#id_rate_per_min", "0.05")
    shot(page, "destinations-add-form")
    page.click("button[type=submit]:has-text('Add Destination')")
    expect(page).to_have_url(re.compile(rf"/rateplans/{plan.pk}/destinations/$"))
    assert Rate.objects.get(rate_plan=plan, code="33").description == "France"
    page.wait_for_load_state("load")  # the filter's htmx trigger is bound on load
    page.fill("input[name=code]", "37")
    expect(page.locator("#object-table table")).not_to_contain_text("France")
    shot(page, "destinations-filtered")
