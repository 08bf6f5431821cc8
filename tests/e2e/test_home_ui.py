"""The home page in a browser: what needs attention is visible, and each item opens the
list of exactly its rows; "Test a call" opens Test call pre-filled."""

import re

import pytest

from tests.factories import build_route_world
from tests.vmgate.test_home import build_trouble

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_shows_what_needs_attention_and_links_to_the_filtered_list(
    page, login, shot, operator, tenant
):
    build_trouble(tenant)
    login("op-a")
    card = page.get_by_test_id("attention-trunks")
    assert card.is_visible()
    assert card.get_by_test_id("attention-count").inner_text() == "2"
    assert page.get_by_test_id("customer-total").is_visible()
    shot(page, "home-1400")
    page.set_viewport_size({"width": 390, "height": 844})
    assert card.is_visible()
    shot(page, "home-390")
    page.set_viewport_size({"width": 1400, "height": 900})
    card.get_by_role("link", name="Active trunks with no active dialpeer").click()
    page.wait_for_url(re.compile(r"/customers/trunks/\?.*linked=none_active"))
    rows = page.locator("#object-table tbody tr")
    assert rows.count() == 2
    assert rows.filter(has_text="bare").first.is_visible()
    assert rows.filter(has_text="idle").first.is_visible()


def test_test_a_call_from_a_dialpeer_opens_test_call_prefilled(page, login, operator, tenant):
    world = build_route_world(tenant)
    login("op-a")
    page.goto(world["dialpeer"].get_absolute_url())
    page.get_by_test_id("test-a-call").click()
    page.wait_for_url(re.compile(r"/routing/test-call/\?prefill=1"))
    assert page.locator("input[name=called_number]").input_value() == "99374"
    assert page.locator("select[name=trunk]").input_value() == str(world["trunk"].pk)
    assert page.get_by_test_id("outcome").count() == 0
    page.locator("input[name=called_number]").fill("9937412345")
    page.get_by_role("button", name="Route this call").click()
    page.get_by_test_id("outcome").first.wait_for(state="visible")
    assert page.get_by_test_id("outcome").first.is_visible()
