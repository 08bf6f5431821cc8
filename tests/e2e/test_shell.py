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


def test_a_viewer_typing_a_write_address_sees_the_styled_403_not_a_form(
    page, login, shot, viewer, tenant
):
    login("view-a")
    response = page.goto("/dialpeers/add/")
    assert response.status == 403
    assert page.get_by_role("heading", name="You cannot do this").is_visible()
    assert page.get_by_text("viewer", exact=False).first.is_visible()
    assert page.locator("main form").count() == 0
    assert page.locator("aside.sidebar").is_visible()  # still the portal, with its sidebar
    shot(page, "shell-403-viewer")


def test_support_staff_land_on_the_admin_and_never_see_tenant_links(page, login, staff_user):
    login("staff")
    assert page.url.endswith("/admin/")
    assert page.locator("#site-name").is_visible()  # the admin's own header
    page.goto("/dialpeers/")
    assert page.url.endswith("/admin/")
    assert page.locator("aside.sidebar").count() == 0


def test_an_unknown_address_is_the_styled_404(page, login, shot, operator, tenant):
    login("op-a")
    response = page.goto("/customers/999999/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.get_by_role("link", name="Go to the home page").is_visible()
    shot(page, "shell-404")


def test_no_page_load_asks_for_something_that_is_missing(page, login, operator, tenant):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    login("op-a")
    page.goto("/customers/")
    page.wait_for_load_state("networkidle")
    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert failed == []
