"""The base shell in a real browser: login, styled page, sidebar, no outside requests."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_sees_the_styled_home_page(page, login, shot, operator, tenant):
    login("op-a")
    assert page.get_by_test_id("tenant-name").inner_text() == "Tenant A"
    # Bootstrap is loaded from our own static files: the navbar is dark.
    bg = page.eval_on_selector("nav.navbar", "el => getComputedStyle(el).backgroundColor")
    assert bg == "rgb(33, 37, 41)"
    assert page.evaluate("typeof htmx") == "object"
    shot(page, "shell-home")


def test_logging_out_returns_to_the_login_page(page, login, operator, tenant):
    login("op-a")
    page.click("text=op-a")
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")
