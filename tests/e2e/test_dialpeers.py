"""The manual's Dialpeers chapter, followed in a real browser (screenshots in screenshots/)."""

import pytest

from dialpeers.models import Dialpeer
from routing.models import RoutingRule
from tests.e2e import selects
from tests.factories import CustomerFactory, RoutingTargetFactory, TrunkFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wiring(tenant):
    acme = CustomerFactory(tenant=tenant, name="Acme Telecom")
    TrunkFactory(customer=acme, name="acme-main", tech_prefix="")
    TrunkFactory(customer=acme, name="acme-backup", tech_prefix="")
    beta = CustomerFactory(tenant=tenant, name="Beta Carrier")
    TrunkFactory(customer=beta, name="beta-main", tech_prefix="")
    RoutingTargetFactory(rule__tenant=tenant, rule__code="374")
    RoutingTargetFactory(rule__tenant=tenant, rule__code="39")
    return acme


def pick_customer_trunk_rule(page, customer="Acme Telecom", trunk="acme-main"):
    selects.pick(page, "id_customer", customer, text=customer[:4])
    selects.pick(page, "id_trunk", trunk, text="")
    # Search the rules as you type: "Arm" finds 374 — Armenia; arrow down and Enter pick it.
    selects.search(page, "id_rule", "Arm")
    page.wait_for_function(
        "[...document.querySelectorAll('#id_rule-ts-dropdown .option')]"
        ".map(o => o.textContent).join('|') === '374 — Armenia'"
    )
    page.keyboard.press("Enter")
    assert selects.chosen(page, "id_rule") == "374 — Armenia"


def test_operator_follows_the_manual_to_add_edit_and_remove_a_dialpeer(
    page, login, shot, operator, tenant, wiring
):
    login("op-a")
    page.click(".sidebar >> text=Dialpeers")
    page.wait_for_url("**/dialpeers/")
    shot(page, "dialpeers-01-empty-list")

    page.click("text=+ Add dialpeer")
    page.wait_for_url("**/dialpeers/add/")
    labels = page.eval_on_selector_all(
        "form[data-testid=dialpeer-form] label.form-label",
        "els => els.map(e => e.textContent.replace('*', '').trim())",
    )
    assert labels == [
        "Display name",
        "Origin customer (retail)",
        "SIP trunk (ingress)",
        "Routing rule",
    ]
    assert page.locator("form[data-testid=dialpeer-form] button[type=submit]").inner_text() == (
        "Create"
    )
    # The trunk list is shown but empty until a customer is picked.
    assert selects.control(page, "id_trunk").is_visible()
    assert selects.offered_after_focus(page, "id_trunk") == []
    shot(page, "dialpeers-02-add-form-trunk-empty")

    selects.pick(page, "id_customer", "Acme Telecom", text="acme")
    # expect_offered opened the dropdown: a second click on the open control would toggle
    # it (and, on a slow machine, blur it), so the screenshot is taken as it stands.
    selects.expect_offered(page, "id_trunk", ["acme-backup", "acme-main"])
    selects.settled(page, "id_trunk")
    shot(page, "dialpeers-03-customer-picked-trunks-listed")
    page.keyboard.press("Escape")

    # Changing the customer drops the trunk and offers the new customer's trunks; Beta
    # has one trunk, so it is picked for you.
    selects.pick(page, "id_trunk", "acme-main", text="")
    selects.pick(page, "id_customer", "Beta Carrier", text="beta")
    page.wait_for_function(
        "document.querySelector('#id_trunk').selectedOptions[0]?.textContent === 'beta-main'"
    )
    selects.expect_offered(page, "id_trunk", ["beta-main"])

    page.fill("#id_name", "Acme → Armenia")
    pick_customer_trunk_rule(page)
    shot(page, "dialpeers-04-rule-picked")
    page.click("button:text-is('Create')")
    page.wait_for_url("**/dialpeers/")
    row = page.locator("tr", has_text="Acme → Armenia")
    assert "374 — Armenia" in row.inner_text()
    assert "acme-main" in row.inner_text() and "Active" in row.inner_text()
    shot(page, "dialpeers-05-created")

    # The same combination again is refused, naming (and linking) the existing one.
    page.click("text=+ Add dialpeer")
    page.fill("#id_name", "Acme → Armenia again")
    pick_customer_trunk_rule(page)
    page.click("button:text-is('Create')")
    error = page.locator(".alert", has_text="already links this origin customer")
    error.wait_for()
    assert error.is_visible()
    assert (
        error.locator("a", has_text="Acme → Armenia")
        .get_attribute("href")
        .startswith("/dialpeers/")
    )
    # The failed POST re-renders with the chosen values and Acme's trunks on offer (the
    # chosen one first: it is always among the first 50).
    assert selects.chosen(page, "id_customer") == "Acme Telecom"
    assert selects.chosen(page, "id_trunk") == "acme-main"
    assert selects.chosen(page, "id_rule") == "374 — Armenia"
    selects.expect_offered(page, "id_trunk", ["acme-main", "acme-backup"])
    shot(page, "dialpeers-06-duplicate-refused")
    assert Dialpeer.objects.count() == 1

    # Edit the name and deactivate.
    page.goto("/dialpeers/")
    row = page.locator("tr", has_text="Acme → Armenia")
    row.locator("button[aria-label=Actions]").click()
    row.locator("text=Edit").click()
    page.wait_for_url("**/edit/")
    page.fill("#id_name", "Acme → Armenia (old)")
    page.uncheck("#id_is_active")
    shot(page, "dialpeers-07-edit")
    page.click("button:text-is('Save')")
    page.wait_for_url("**/dialpeers/")
    row = page.locator("tr", has_text="Acme → Armenia (old)")
    assert "Inactive" in row.inner_text()
    shot(page, "dialpeers-08-edited-inactive")

    # Remove: confirm, and only the dialpeer row goes.
    row.locator("button[aria-label=Actions]").click()
    row.locator("text=Remove").click()
    page.wait_for_url("**/delete/")
    assert "deletes only the dialpeer row" in page.inner_text("main")
    shot(page, "dialpeers-09-remove-confirm")
    page.click("button:text-is('Remove')")
    page.wait_for_url("**/dialpeers/")
    assert page.locator("tr", has_text="Acme → Armenia").count() == 0
    shot(page, "dialpeers-10-removed")
    assert not Dialpeer.objects.exists()
    assert wiring.trunks.count() == 2


def test_list_filters_search_as_you_type_and_bulk_deactivate(
    page, login, shot, operator, tenant, wiring
):
    trunk = wiring.trunks.get(name="acme-main")
    for name, code in (("AM", "374"), ("IT", "39")):
        Dialpeer.objects.create(
            tenant=tenant,
            name=name,
            customer=wiring,
            trunk=trunk,
            rule=RoutingRule.objects.get(tenant=tenant, code=code),
        )
    login("op-a")
    page.goto("/dialpeers/")
    # Filter by rule: search the rule filter as you type, the table follows.
    url = page.url
    selects.pick(page, "id_rule", "39 — Italy", text="ital")
    page.wait_for_function("document.querySelectorAll('#object-table tbody tr').length === 1")
    assert "IT" in page.inner_text("#object-table tbody")
    assert page.url.split("?")[0] == url  # the list keeps its own address
    shot(page, "dialpeers-11-filtered-by-rule")
    page.goto("/dialpeers/")
    page.check("#object-table thead input[data-select-all]")
    page.click("button:text-is('Deactivate')")
    page.wait_for_url("**/dialpeers/**")
    assert "2 dialpeers deactivated." in page.inner_text("main")
    shot(page, "dialpeers-12-bulk-deactivated")
    assert not Dialpeer.objects.filter(is_active=True).exists()


def test_trunk_detail_shows_its_routing_table(page, login, shot, operator, tenant, wiring):
    trunk = wiring.trunks.get(name="acme-main")
    for name, code, active in (("AM", "374", True), ("IT", "39", False)):
        Dialpeer.objects.create(
            tenant=tenant,
            name=name,
            customer=wiring,
            trunk=trunk,
            rule=RoutingRule.objects.get(tenant=tenant, code=code),
            is_active=active,
        )
    login("op-a")
    page.goto(trunk.get_absolute_url())
    page.click("button:has-text('Routing table')")
    table = page.get_by_test_id("trunk-routing-table")
    table.wait_for()
    # Bootstrap fades the tab in: screenshot once it is fully shown.
    page.wait_for_function(
        "getComputedStyle(document.querySelector('#tab-dialpeers')).opacity === '1'"
    )
    rows = table.locator("[data-testid=routing-row]")
    assert rows.count() == 2
    assert "374" in rows.nth(0).inner_text() and "Armenia" in rows.nth(0).inner_text()
    assert "carries no traffic" in rows.nth(1).inner_text()
    shot(page, "dialpeers-13-trunk-routing-table")
