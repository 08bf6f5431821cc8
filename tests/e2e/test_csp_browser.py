"""(Lives in tests/e2e to share its one Chromium session.) The portal under its enforced Content-Security-Policy in Chromium: the main pages open,
their scripts work (search as you type, the SIM-slot row button, the Swagger UI) and the
browser reports no CSP violation — neither a console message nor a securitypolicyviolation
event. (The e2e suite's contexts bypass the CSP for Playwright's eval-based waits; this
context does not.)"""

import re

import pytest

from tests.e2e import selects
from tests.factories import UserFactory, build_route_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def strict_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    outside = []

    def guard(route):
        if route.request.url.startswith(live_server.url):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.console_messages_seen = []
    page.on("console", lambda m: page.console_messages_seen.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_messages_seen.append(f"pageerror: {e}"))
    yield page
    context.close()
    assert not outside, f"requests left the machine: {outside}"


def violations(page):
    events = page.evaluate("window.__csp || []")
    console = [
        m
        for m in page.console_messages_seen
        if "Content Security Policy" in m or "Content-Security-Policy" in m or "pageerror" in m
    ]
    return events + console


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(admin/)?$"))


def sidebar_links(page):
    return page.eval_on_selector_all(
        ".sidebar a.nav-link", "els => els.map(e => e.getAttribute('href'))"
    )


def test_the_portal_pages_work_under_the_policy(strict_page, operator, tenant, shot):
    page = strict_page
    world = build_route_world(tenant)
    log_in(page, "op-a")
    assert page.is_visible('[data-testid="tenant-name"]')
    visited = []
    paths = sidebar_links(page)
    paths += [
        world["customer"].get_absolute_url(),
        world["trunk"].get_absolute_url(),
        world["rule"].get_absolute_url(),
        world["dialpeer"].get_absolute_url(),
        "/customers/add/",
        "/customers/trunks/add/",
        "/routing/rules/add/",
        f"/routing/clients/{world['gw_a'].pk}/edit/",
        "/routing/test-call/?called_number=9937412345678&trunk=" + str(world["trunk"].pk),
        "/changes/",
        "/tokens/",
    ]
    assert len(paths) >= 15
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        visited.append(path)
        assert not violations(page), (path, violations(page))

    # Scripts from our files still run: the SIM slot button adds a row (portal.js)...
    page.goto("/routing/clients/add/")
    rows = page.locator("#slots-rows tr")
    before = rows.count()
    page.click("#add-slot")
    assert rows.count() == before + 1
    # ...and the dialpeer form's searchable customer select searches as you type.
    page.goto("/dialpeers/add/")
    page.wait_for_load_state("networkidle")
    selects.box(page, "id_customer").click()
    selects.control(page, "id_customer").press_sequentially("Carr")
    option = page.locator("#id_customer-ts-dropdown .option", has_text="Carrier").first
    option.wait_for(state="visible")
    option.click()
    assert page.locator("#id_customer option:checked", has_text="Carrier").count() == 1
    shot(page, "csp-dialpeer-form")
    assert not violations(page), violations(page)


def test_the_api_docs_render_under_the_policy(strict_page, operator):
    page = strict_page
    log_in(page, "op-a")
    page.goto("/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title", state="visible")
    assert "VMGate routing portal API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", state="visible")
    shot_ok = page.locator(".opblock").count()
    assert shot_ok > 10
    assert not violations(page), violations(page)


def test_the_admin_and_the_lockout_page_work_under_the_policy(strict_page, db):
    page = strict_page
    UserFactory(username="support", is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.fill("input[name=username]", "support")
    page.fill("input[name=password]", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for path in ("/admin/", "/admin/customers/customer/", "/admin/routing/vmgateclient/add/"):
        assert page.goto(path).status == 200
        page.wait_for_load_state("networkidle")
        assert not violations(page), (path, violations(page))
    # The lockout message is visible (and clean) too.
    page.context.clear_cookies()
    for _ in range(5):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", "nobody")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
    lockout = page.locator('[data-testid="lockout"]')
    assert lockout.is_visible()
    assert "Try again in 15 minutes" in lockout.inner_text()
    assert not violations(page), violations(page)
