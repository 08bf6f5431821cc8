"""The routing-policy pages in a real browser: a translation set built rule by rule and
tried in its test box, the rule form's errors, a schedule with an overnight window on its
week grid, a big number list paged and sorted (Reload and Back keep the address), and a
list attached to a trunk through the trunk form's searchable select.

Screenshots of each page go to /tmp/shots/policy-*.png (looked at by hand, not committed).
"""

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from customers.models import Trunk
from routing.models import NumberListEntry, Schedule, TranslationSet
from tests.e2e import selects
from tests.e2e.htmx import settled
from tests.factories import (
    NetworkFactory,
    NumberListFactory,
    RoutingRuleFactory,
    ScheduleFactory,
    TranslationSetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def snap(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"policy-{name}.png"), full_page=True)


def query(page):
    return parse_qs(urlparse(page.url).query)


def add_rule(page, match, replace, *, stop=True):
    page.get_by_role("link", name="+ Add rule").click()
    page.wait_for_url("**/rules/add/")
    page.fill("input[name=match]", match)
    page.fill("input[name=replace]", replace)
    page.locator("input[name=stop]").set_checked(stop)
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/routing/translations/*/")


def test_operator_builds_a_translation_set_and_tries_numbers_in_its_test_box(
    page, login, operator, tenant
):
    login("op-a")
    page.goto("/routing/translations/")
    page.get_by_role("link", name="+ Add translation set").first.click()
    page.fill("input[name=name]", "National to E.164")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/routing/translations/*/")
    add_rule(page, "00([0-9]+)", "\\1")
    add_rule(page, "0([0-9]+)", "374\\1", stop=False)
    rules = page.get_by_test_id("translation-rules")
    assert rules.locator("tbody tr").count() == 2
    assert rules.get_by_text("continue").is_visible()

    settled(page)
    page.fill("#id_number", "091234567")
    page.get_by_role("button", name="Test").click()
    result = page.get_by_test_id("test-result")
    result.wait_for()
    assert result.is_visible() and "37491234567" in result.inner_text()
    assert (
        page.locator("[data-testid=test-steps] tr[data-matched='1']").inner_text().count("→") == 1
    )
    assert urlparse(page.url).path.endswith(
        f"/translations/{TranslationSet.objects.get().pk}/"
    )  # the box answers in place
    snap(page, "translationset-detail")

    page.fill("#id_number", "09x")
    page.get_by_role("button", name="Test").click()
    error = page.get_by_test_id("test-error")
    error.wait_for()
    assert error.is_visible() and "1–24 digits" in error.inner_text()
    assert page.get_by_test_id("test-result").count() == 0

    page.goto("/routing/translations/")
    snap(page, "translationset-list")


def test_the_rule_form_shows_each_error_under_its_field(page, login, operator, tenant):
    s = TranslationSetFactory(tenant=tenant)
    login("op-a")
    page.goto(f"/routing/translations/{s.pk}/rules/add/")
    page.fill("input[name=position]", "")
    page.get_by_role("button", name="Create").click()
    for name in ("position", "match"):
        feedback = page.locator(f"#id_{name} ~ .invalid-feedback, #error_1_id_{name}").first
        assert feedback.is_visible(), name
        assert "required" in feedback.inner_text()

    page.fill("input[name=position]", "1")
    page.fill("input[name=match]", "(0+)+1")
    page.fill("input[name=replace]", "1")
    page.get_by_role("button", name="Create").click()
    feedback = page.locator("#id_match ~ .invalid-feedback").first
    assert feedback.is_visible() and "backtrack too much" in feedback.inner_text()
    page.fill("input[name=match]", "0([0-9]+")
    page.get_by_role("button", name="Create").click()
    feedback = page.locator("#id_match ~ .invalid-feedback").first
    assert feedback.is_visible() and "Not a valid regular expression" in feedback.inner_text()
    page.fill("input[name=match]", "0([0-9]+)")
    page.fill("input[name=replace]", "374\\2")
    page.get_by_role("button", name="Create").click()
    feedback = page.locator("#id_replace ~ .invalid-feedback").first
    assert feedback.is_visible() and "no group 2" in feedback.inner_text()
    snap(page, "translationrule-errors")
    assert not s.rules.exists()


def test_operator_makes_a_schedule_with_an_overnight_window_and_sees_it_on_the_grid(
    page, login, operator, tenant
):
    login("op-a")
    page.goto("/routing/schedules/add/")
    page.fill("input[name=name]", "Friday nights")
    page.fill("input[name=timezone]", "Mars/Olympus")
    page.get_by_role("button", name="Create").click()
    feedback = page.locator("#id_timezone ~ .invalid-feedback").first
    assert feedback.is_visible() and "IANA" in feedback.inner_text()
    page.fill("input[name=timezone]", "Asia/Yerevan")
    page.get_by_role("button", name="Create").click()
    schedule = Schedule.objects.get(tenant=tenant)
    page.wait_for_url(f"**/routing/schedules/{schedule.pk}/")

    page.get_by_role("link", name="+ Add window").click()
    for box in page.locator("input[name=weekdays]").all():
        box.uncheck()
    page.fill("input[name=start]", "22:00")
    page.fill("input[name=end]", "02:00")
    page.get_by_role("button", name="Create").click()
    error = page.get_by_text("Choose at least one weekday.")
    assert error.is_visible()
    snap(page, "schedulewindow-error")
    page.get_by_label("Fri").check()
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/routing/schedules/{schedule.pk}/")

    grid = page.get_by_test_id("week-grid")
    assert grid.is_visible()
    assert "Asia/Yerevan" in page.locator("h2", has=page.locator("small")).first.inner_text()

    def cell(day, hour):
        return grid.locator(f"tr[data-day={day}] td[data-hour='{hour}']")

    for day, hour in (("Fri", 22), ("Fri", 23), ("Sat", 0), ("Sat", 1)):
        assert cell(day, hour).is_visible()
        assert "open" in cell(day, hour).get_attribute("class"), (day, hour)
    for day, hour in (("Fri", 21), ("Sat", 2), ("Thu", 23), ("Sun", 0)):
        assert "open" not in cell(day, hour).get_attribute("class"), (day, hour)
    colour = cell("Fri", 22).evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != cell("Fri", 21).evaluate("e => getComputedStyle(e).backgroundColor")
    assert page.get_by_test_id("schedule-windows").get_by_text("Fri 22:00–02:00").is_visible()
    snap(page, "schedule-detail")
    page.goto("/routing/schedules/")
    snap(page, "schedule-list")


def test_a_big_number_list_pages_and_sorts_and_keeps_its_address(page, login, operator, tenant):
    nl = NumberListFactory(tenant=tenant, name="premium")
    NumberListEntry.objects.bulk_create(
        NumberListEntry(number_list=nl, value=f"3749{i:03}", note=f"range {i}") for i in range(40)
    )
    url = f"/routing/number-lists/{nl.pk}/"
    login("op-a")
    page.goto(url)
    page.get_by_role("link", name="+ Add entry").first.click()
    page.fill("input[name=value]", "90")
    page.get_by_role("button", name="Add entry").click()
    page.wait_for_url(f"**{url}")
    assert page.get_by_test_id("list-total").inner_text().startswith("41 entries")
    snap(page, "numberlist-detail")

    # Sorted by value already: the header's link turns it round.
    page.locator("#object-table th a.sort-link", has_text="Value").click()
    page.wait_for_function("() => location.search.includes('sort=-value')")
    first = page.locator("#object-table tbody tr").first
    assert first.locator("td").first.inner_text() == "90"

    page.locator("[data-testid=pagination]").get_by_role("link", name="Next").click()
    page.wait_for_url(f"**{url}?*page=2*")
    assert query(page)["sort"] == ["-value"]
    assert page.locator("#object-table tbody tr").count() == 16
    last = page.locator("#object-table tbody tr").last.locator("td").first.inner_text()
    assert last == "3749000"

    page.reload()
    assert urlparse(page.url).path == url and query(page)["page"] == ["2"]
    assert page.locator("#object-table tbody tr").count() == 16
    page.go_back()
    page.wait_for_load_state("networkidle")
    assert urlparse(page.url).path == url and "page" not in query(page)
    assert page.locator("#object-table tbody tr").first.locator("td").first.inner_text() == "90"

    page.locator("#filter-form input[type=search]").fill("374903")
    page.wait_for_function("() => location.search.includes('q=374903')")
    page.wait_for_function("document.querySelectorAll('#object-table tbody tr').length === 10")
    page.reload()
    assert page.locator("#object-table tbody tr").count() == 10
    page.goto("/routing/number-lists/")
    snap(page, "numberlist-list")


def test_operator_attaches_a_number_list_to_a_trunk_in_the_trunk_form(
    page, login, operator, tenant
):
    deny = NumberListFactory(tenant=tenant, name="Premium ranges")
    NumberListFactory(tenant=tenant, name="Callers allowed", kind="allow")
    s = TranslationSetFactory(tenant=tenant, name="National to E.164")
    trunk = TrunkFactory(customer__tenant=tenant, name="sbc-1")
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.10/32")
    login("op-a")
    page.goto(f"/customers/trunks/{trunk.pk}/edit/")
    selects.pick(page, "id_ingress_translation", "National to E.164", text="Nat")
    selects.pick(page, "id_number_lists", "Premium ranges", text="Prem")
    page.keyboard.press("Escape")
    snap(page, "trunk-form")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/customers/trunks/{trunk.pk}/")
    trunk = Trunk.objects.get(pk=trunk.pk)
    assert list(trunk.number_lists.all()) == [deny] and trunk.ingress_translation == s
    lists = page.get_by_test_id("trunk-number-lists")
    assert lists.get_by_role("link", name="Premium ranges").is_visible()
    assert page.get_by_test_id("trunk-translation").get_by_role("link").is_visible()
    snap(page, "trunk-detail")

    # The list is in use now: its delete page says by which trunk, and offers no Remove.
    page.goto(f"/routing/number-lists/{deny.pk}/delete/")
    refusal = page.get_by_test_id("delete-refusal")
    assert refusal.is_visible() and "sbc-1" in refusal.inner_text()
    assert page.get_by_role("button", name="Remove").count() == 0
    snap(page, "numberlist-delete-refused")

    # Removing it again through the item's × button.
    page.goto(f"/customers/trunks/{trunk.pk}/edit/")
    page.locator("#id_number_lists-ts-control").locator("xpath=..").locator(".remove").click()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/customers/trunks/{trunk.pk}/")
    assert not trunk.number_lists.exists()
    assert Trunk.objects.get(pk=trunk.pk).ingress_translation == s


def test_a_rule_and_its_target_get_schedules_on_their_pages(page, login, operator, tenant):
    nights = ScheduleFactory(tenant=tenant, name="Nights")
    ScheduleFactory(tenant=tenant, name="Office hours")
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    network = NetworkFactory(tenant=tenant, name="Yerevan site")
    login("op-a")
    page.goto(f"/routing/rules/{rule.pk}/edit/")
    selects.pick(page, "id_schedule", "Office hours", text="Off")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/routing/rules/{rule.pk}/")
    assert "Office hours" in page.get_by_test_id("rule-schedule").inner_text()

    page.goto(f"/routing/rules/{rule.pk}/targets/")
    add = page.get_by_test_id("target-add-row")
    add.locator("select[name=new-kind]").select_option("network")
    settled(page)
    selects.pick(page, "id_new-network", network.name, text="")
    selects.pick(page, "id_new-schedule", "Nights", text="Nig")
    add.get_by_role("button", name="+ Add target").click()
    page.wait_for_function("document.querySelectorAll('[data-testid=target-row]').length === 1")
    settled(page)
    assert rule.targets.get().schedule == nights
    row = page.get_by_test_id("target-row")
    assert row.locator(f"#id_t{rule.targets.get().pk}-schedule-ts-control").count() == 1
    assert "Nights" in row.inner_text()
    snap(page, "targets-with-schedule")
