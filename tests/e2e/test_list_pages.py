"""Every list page in Chromium, found by walking the URL configuration (tests/lists.py): open
it, sort, go to page 2, filter, Reload, Back — after each step the address bar shows the
list's own path and the page is the whole styled page with its sidebar and table. Plus
the empty states, the total and the remembered per-page choice, as a person sees them.

Screenshots of every list at 1400×900 and 390×844 go to screenshots/list-*.png.
"""

from urllib.parse import parse_qs, urlparse

import pytest

from tests.lists import PLAIN_LISTS, list_routes, make_rows, table_routes, url_of

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = table_routes()
PLAIN = [r for r in list_routes() if not r.is_table]


def assert_whole_list_page(page, path, *, table=True):
    """The address is the list's own, and the page is the styled portal page."""
    page.wait_for_load_state("networkidle")
    assert urlparse(page.url).path == path, f"address bar shows {page.url}, not {path}"
    sidebar = page.locator("aside.sidebar")
    assert sidebar.is_visible(), f"no sidebar on {page.url}"
    # Styled: Bootstrap's bg-light paints the sidebar (an unstyled fragment has no sidebar,
    # and a page without the stylesheet has a transparent one).
    color = sidebar.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color not in ("rgba(0, 0, 0, 0)", "transparent"), color
    assert page.locator("main h1").is_visible()
    if table:
        assert page.locator("#object-table table").first.is_visible(), f"no table on {page.url}"


def assert_fits(page):
    """At 1400 px the table is no wider than the page's main column (no sideways scroll)."""
    width = page.evaluate(
        "() => [document.querySelector('#object-table table').scrollWidth,"
        " document.querySelector('#object-table').clientWidth]"
    )
    assert width[0] <= width[1], f"the table is {width[0]} px wide in a {width[1]} px column"


def assert_filters_line_up(page):
    """Every filter is a label over one control of one height: the row lines up (once a
    search box stacked above each searchable dropdown made those fields taller)."""
    fields = page.evaluate(
        """() => [...document.querySelectorAll('#filter-form .filter-field')].map(f => {
            const label = f.querySelector('label').getBoundingClientRect();
            const box = f.getBoundingClientRect();
            return [f.querySelector('[name]').name, Math.round(box.height),
                    Math.round(box.top - label.top)];
        })"""
    )
    heights = {h for _, h, _ in fields}
    assert not fields or max(heights) - min(heights) <= 2, fields


def query(page):
    return parse_qs(urlparse(page.url).query)


@pytest.mark.parametrize("route", TABLES, ids=[r.name for r in TABLES])
def test_a_list_keeps_its_own_address_through_sort_page_filter_reload_and_back(
    route, page, login, shot, tenant, operator
):
    url = url_of(route, make_rows(route, tenant, 27))
    login("op-a")
    page.goto(url)
    assert_whole_list_page(page, url)
    name = route.name.replace(":", "-")
    shot(page, f"list-{name}-1400")
    assert_fits(page)
    assert_filters_line_up(page)

    # Sort by the first sortable column (a full page at the list's address).
    page.locator("#object-table th a.sort-link").first.click()
    assert_whole_list_page(page, url)
    assert "sort" in query(page)
    sorted_first = page.locator("#object-table tbody tr").first.inner_text()

    # Page 2 (27 rows, 25 a page: 2 rows).
    page.locator("[data-testid=pagination]").get_by_role("link", name="2", exact=True).click()
    assert_whole_list_page(page, url)
    assert query(page).get("page") == ["2"] and "sort" in query(page)
    assert page.locator("#object-table tbody tr").count() == 2

    page.reload()
    assert_whole_list_page(page, url)
    assert query(page).get("page") == ["2"]

    page.go_back()
    assert_whole_list_page(page, url)
    assert "page" not in query(page)
    assert page.locator("#object-table tbody tr").first.inner_text() == sorted_first

    # A filter (the list's search box, through htmx): the address follows, and stays the
    # list's own through Reload and Back.
    search = page.locator("#filter-form input[type=search]").first
    if search.count():
        with page.expect_response(lambda r: urlparse(r.url).path == url):
            search.fill("zz-none")
        page.wait_for_function("() => location.search.includes('zz-none')")
        assert_whole_list_page(page, url, table=False)
        assert page.get_by_test_id("empty-state").is_visible()
        page.reload()
        assert_whole_list_page(page, url, table=False)
        assert page.get_by_test_id("empty-state").is_visible()
        page.go_back()
        assert_whole_list_page(page, url)
        assert "zz-none" not in page.url

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    assert_whole_list_page(page, url)
    shot(page, f"list-{name}-390")


@pytest.mark.parametrize("route", PLAIN, ids=[r.name for r in PLAIN])
def test_a_plain_list_keeps_its_address_through_reload_and_back(route, page, login, operator):
    assert route.name in PLAIN_LISTS
    url = url_of(route)
    login("op-a")
    page.goto(url)
    assert_whole_list_page(page, url, table=False)
    page.reload()
    assert_whole_list_page(page, url, table=False)
    page.goto("/")
    page.go_back()
    assert_whole_list_page(page, url, table=False)


def route_named(name):
    return next(r for r in TABLES if r.name == name)


def test_empty_states_say_none_yet_or_nothing_matches(page, login, shot, tenant, operator):
    route = route_named("routing:network_list")
    url = url_of(route)
    login("op-a")
    page.goto(url)
    empty = page.get_by_test_id("empty-state")
    assert empty.is_visible() and "No networks yet." in empty.inner_text()
    add = page.get_by_test_id("empty-add")
    assert add.is_visible()
    shot(page, "list-empty-none-yet")

    make_rows(route, tenant, 3)
    page.goto(url + "?q=nothing-like-this")
    assert empty.is_visible() and "No networks match these filters." in empty.inner_text()
    assert not add.is_visible()
    shot(page, "list-empty-nothing-matches")
    page.get_by_test_id("clear-filters").click()
    assert_whole_list_page(page, url)
    assert page.url.endswith(url)
    assert page.locator("#object-table tbody tr").count() == 3


def test_a_viewer_sees_none_yet_without_an_add_button(page, login, viewer):
    url = url_of(route_named("dialpeers:dialpeer_list"))
    login("view-a")
    page.goto(url)
    assert page.get_by_test_id("empty-state").is_visible()
    assert "No dialpeers yet." in page.get_by_test_id("empty-state").inner_text()
    assert page.get_by_test_id("empty-add").count() == 0


def test_total_and_per_page_choice_are_shown_and_remembered(page, login, tenant, operator):
    customers = route_named("customers:customer_list")
    url = url_of(customers, make_rows(customers, tenant, 60))
    login("op-a")
    page.goto(url)
    total = page.get_by_test_id("list-total")
    assert total.is_visible() and total.inner_text().startswith("60 customers")
    assert page.locator("#object-table tbody tr").count() == 25
    page.get_by_test_id("per-page").get_by_role("link", name="50", exact=True).click()
    assert_whole_list_page(page, url)
    assert page.locator("#object-table tbody tr").count() == 50
    # Another list, then this one again without ?per_page: the choice holds.
    page.goto(url_of(route_named("routing:network_list")))
    chosen = page.get_by_test_id("per-page").locator("[aria-current=true]")
    assert chosen.is_visible() and chosen.inner_text() == "50"
    page.goto(url)
    assert page.locator("#object-table tbody tr").count() == 50
    assert "page 1 of 2" in total.inner_text()


def test_failing_routing_checks_with_long_results_fit_1400_px(page, login, shot, tenant, operator):
    from tests.factories import RoutingCheckFactory, TrunkFactory

    trunk = TrunkFactory(
        customer__tenant=tenant,
        customer__name="Wholesale carrier with a rather long company name LLC",
        name="ingress-from-the-long-named-carrier-primary",
    )
    why = (
        "outcome: expected routed, got rejected (no dialpeer links trunk "
        "“ingress-from-the-long-named-carrier-primary” to a rule for 37499123456); "
        "rule: expected 37499 — Armenia (mobile, VivaCell-MTS), got no rule"
    )
    for n in range(3):
        RoutingCheckFactory(
            tenant=tenant,
            trunk=trunk,
            name=f"Armenia mobile via the long-named carrier {n}",
            called_number="9937499123456",
            last_passed=False,
            last_result={"differences": [why, why], "summary": why},
        )
    url = url_of(route_named("routing:routingcheck_list"))
    login("op-a")
    page.goto(url)
    assert_whole_list_page(page, url)
    shot(page, "list-routingchecks-failing-1400")
    assert_fits(page)


def test_export_csv_downloads_every_row_of_the_filtered_list(page, login, shot, tenant, operator):
    """The toolbar's Export CSV link: every row (not the page of 25), and after a filter is
    chosen in the form, only the matching rows (the link follows the list's address)."""
    import csv
    import io

    from tests.factories import CustomerFactory

    for i in range(30):
        CustomerFactory(tenant=tenant, name=f"active {i:02}", status="active")
    for i in range(3):
        CustomerFactory(tenant=tenant, name=f"blocked {i}", status="blocked")
    url = url_of(route_named("customers:customer_list"))
    login("op-a")
    page.goto(url)
    link = page.get_by_test_id("export-csv")
    assert link.is_visible() and link.inner_text() == "Export CSV"
    assert page.locator("#object-table tbody tr").count() == 25

    def download():
        with page.expect_download() as info:
            page.get_by_test_id("export-csv").click()
        text = open(info.value.path(), encoding="utf-8").read()
        return list(csv.reader(io.StringIO(text)))

    rows = download()
    assert rows[0][:2] == ["name", "country"] and len(rows) == 1 + 33
    page.select_option("#filter-form select[name=status]", "blocked")
    total = page.get_by_test_id("list-total")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=list-total]').innerText.startsWith('3 ')"
    )
    assert total.is_visible() and "match the filters" in total.inner_text()
    assert "status=blocked" in page.get_by_test_id("export-csv").get_attribute("href")
    page.mouse.move(0, 0)  # the screenshot without the hover state of the clicked link
    shot(page, "list-export-filtered")
    rows = download()
    assert sorted(r[0] for r in rows[1:]) == ["blocked 0", "blocked 1", "blocked 2"]
    assert query(page).get("status") == ["blocked"]  # the page itself stayed where it was
