"""The Change log in a real browser: a change made in the UI shows at the top, with who and
what changed, and the filters narrow it."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import build_route_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_block_made_in_the_ui_tops_the_change_log(page, login, shot, operator, tenant):
    build_route_world(tenant)
    login("op-a")
    page.click(".sidebar >> text=Customers")
    row = page.locator("tr", has_text="Carrier")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("button", name="Block").click()
    expect(page.locator("tr", has_text="Carrier").get_by_test_id("customer-status")).to_have_text(
        "Blocked"
    )

    page.click(".sidebar >> text=Change log")
    expect(page.locator("h1")).to_have_text("Change log")
    first = page.get_by_test_id("changelog").locator("tbody tr").first
    expect(first).to_contain_text("op-a")
    expect(first).to_contain_text("Customer")
    expect(first).to_contain_text("changed")
    expect(first).to_contain_text("Active → Blocked")
    shot(page, "changelog")
    first.get_by_role("link", name="Carrier").click()
    expect(page.locator("h1")).to_contain_text("Carrier")
    # The object's own History tab: the same record, from the same template, without the
    # log's "What" column.
    page.wait_for_load_state("load")  # Bootstrap's tabs are bound (role "tab") on load
    page.get_by_role("tab", name="History").click()
    expect(page.locator("#tab-history")).to_have_class(re.compile(r"\bshow\b"))  # faded in
    history = page.get_by_test_id("history")
    expect(history).to_be_visible()
    expect(history.locator("tbody tr").first).to_contain_text("Active → Blocked")
    expect(history.locator("thead")).not_to_contain_text("What")
    shot(page, "customer-history-tab")

    page.click(".sidebar >> text=Change log")
    page.select_option("#id_kind", "routingrule")
    page.click("button:has-text('Filter')")
    rows = page.get_by_test_id("changelog").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Routing rule")
    shot(page, "changelog-filtered")
