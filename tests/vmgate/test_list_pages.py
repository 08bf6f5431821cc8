"""Every list page (found by walking the URL configuration, tests/lists.py): any paging or
sort parameter is answered without a 5xx, the address stays the list's own, and the list
shows its total, a remembered per-page choice and the right empty state."""

import re

import pytest
from django.urls import reverse

from tests.lists import PLAIN_LISTS, list_routes, make_rows, table_routes, url_of
from vmgate.models import UserPreference
from vmgate.paging import PER_PAGE_CHOICES

pytestmark = pytest.mark.django_db

TABLES = table_routes()
IDS = [r.name for r in TABLES]


def test_the_walk_finds_the_lists_and_every_plain_list_is_declared():
    names = {r.name for r in list_routes()}
    assert {"customers:customer_list", "dialpeers:dialpeer_list", "customers:rate_list"} <= {
        r.name for r in TABLES
    }
    for route in list_routes():
        if not route.is_table:
            assert route.name in PLAIN_LISTS, (
                f"{route.name} looks like a list but is no TenantListView: make it one, or "
                "say in tests/lists.py PLAIN_LISTS why it has no table paging"
            )
    assert set(PLAIN_LISTS) <= names, "PLAIN_LISTS names a page that no longer exists"


def rows_of(body):
    table = re.search(r"<tbody.*?</tbody>", body, re.S)
    return len(re.findall(r"<tr[ >]", table.group(0))) if table else 0


BAD_PAGING = [
    {"page": "2"},  # beyond the last page of 1 row... (26 rows: page 2 exists; see below)
    {"page": "99"},
    {"page": "-1"},
    {"page": "0"},
    {"page": "٤"},
    {"page": "1\x00"},
    {"page": "9" * 40},
    {"page": "abc"},
    {"per_page": "-1"},
    {"per_page": "0"},
    {"per_page": "9" * 40},
    {"per_page": "٥٠"},
    {"per_page": "1000000"},
    {"sort": "nonexistent"},
    {"sort": "-"},
    {"sort": "\x00"},
    {"sort": "actions"},
    {"page": "99", "per_page": "-5", "sort": "-name"},
]


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_odd_paging_and_sort_parameters_answer_a_page_never_a_5xx(route, op_client, tenant):
    rows = make_rows(route, tenant, 1)
    url = url_of(route, rows)
    for params in BAD_PAGING:
        response = op_client.get(url, params)
        assert response.status_code == 200, (params, response.status_code)
        assert rows_of(response.content.decode()) == 1, params


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_a_page_past_the_end_shows_the_last_page_and_says_so(route, op_client, tenant):
    rows = make_rows(route, tenant, 26)
    url = url_of(route, rows)
    body = op_client.get(url, {"page": "7"}).content.decode()
    assert rows_of(body) == 1
    assert 'data-testid="page-clamped"' in body and "Page 7 does not exist" in body
    assert rows_of(op_client.get(url, {"page": "-1"}).content.decode()) == 25
    assert rows_of(op_client.get(url, {"page": "٢"}).content.decode()) == 25


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_sort_and_page_links_carry_the_lists_own_path(route, op_client, tenant):
    rows = make_rows(route, tenant, 26)
    url = url_of(route, rows)
    body = op_client.get(url).content.decode()
    table = body[body.index('id="object-table"') :]
    hrefs = re.findall(r'<a class="(?:sort-link|page-link)[^"]*" href="([^"]*)"', table)
    assert any("sort=" in h for h in hrefs) and any("page=2" in h for h in hrefs)
    assert all(h.startswith(url + "?") for h in hrefs), hrefs
    per_page = re.findall(r'href="([^"]*per_page=[^"]*)"', table)
    assert len(per_page) == len(PER_PAGE_CHOICES)
    assert all(h.startswith(url + "?") for h in per_page), per_page


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_the_filter_form_pushes_no_address_of_its_own(route, op_client, tenant):
    url = url_of(route, make_rows(route, tenant, 1))
    body = op_client.get(url).content.decode()
    form = re.search(r'<form id="filter-form".*?</form>', body, re.S)
    if form is None:
        return  # a list without filters
    assert "hx-push-url=" not in form.group(0)
    assert re.search(r'hx-disinherit="[^"]*hx-push-url', form.group(0))
    assert re.search(r'hx-disinherit="[^"]*hx-target', form.group(0))


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_the_filter_forms_htmx_answer_names_the_lists_own_address(route, op_client, tenant):
    url = url_of(route, make_rows(route, tenant, 1))
    response = op_client.get(url, {"q": "x", "status": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"{url}?q=x"
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert "<html" not in body and 'data-testid="list-total"' in body


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_a_history_restore_gets_the_whole_page(route, op_client, tenant):
    url = url_of(route, make_rows(route, tenant, 1))
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = op_client.get(url, headers=headers)
    body = response.content.decode()
    assert "<html" in body and 'class="col-md-2' in body  # the sidebar
    assert "HX-Push-Url" not in response


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_the_total_of_matching_rows_is_shown(route, op_client, tenant):
    rows = make_rows(route, tenant, 27)
    body = op_client.get(url_of(route, rows)).content.decode()
    total = re.search(r'data-testid="list-total">\s*(.*?)\s*</div>', body, re.S).group(1)
    assert total.startswith("27 ") and "page 1 of 2" in total, total


def test_the_per_page_choice_is_remembered_for_the_user(op_client, operator, tenant):
    route = next(r for r in TABLES if r.name == "customers:customer_list")
    url = url_of(route, make_rows(route, tenant, 60))
    assert rows_of(op_client.get(url).content.decode()) == 25
    assert rows_of(op_client.get(url, {"per_page": "50"}).content.decode()) == 50
    assert UserPreference.objects.get(user=operator).per_page == 50
    # Another list, a later visit, a new login: still 50.
    op_client.logout()
    op_client.force_login(operator)
    assert rows_of(op_client.get(url).content.decode()) == 50
    body = op_client.get(reverse("routing:network_list")).content.decode()
    assert 'aria-current="true">50<' in body
    # A bad value changes nothing.
    assert rows_of(op_client.get(url, {"per_page": "-1"}).content.decode()) == 50
    assert UserPreference.objects.get(user=operator).per_page == 50


def text_filter(route):
    """A text filter of the list (a search), to ask for something that matches nothing."""
    import django_filters

    filters = route.view_class.filterset_class.base_filters
    return next(n for n, flt in filters.items() if isinstance(flt, django_filters.CharFilter))


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_nothing_matches_offers_to_clear_the_filters(route, op_client, tenant):
    url = url_of(route, make_rows(route, tenant, 1))
    body = op_client.get(url, {text_filter(route): "☃ nothing like this"}).content.decode()
    empty = re.search(r'data-testid="empty-state".*?</div>', body, re.S).group(0)
    assert "match these filters" in empty and "yet" not in empty
    assert f'href="{url}" data-testid="clear-filters"' in empty


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_none_yet_offers_the_add_button_to_operators_only(route, client, operator, viewer, tenant):
    if route.arguments:
        # A nested list: its parent exists, its rows do not.
        rows = make_rows(route, tenant, 1)
        url = url_of(route, rows)
        route.model.objects.filter(pk__in=[r.pk for r in rows]).delete()
    else:
        url = url_of(route)
    client.force_login(operator)
    body = client.get(url).content.decode()
    empty = re.search(r'data-testid="empty-state".*?</div>', body, re.S).group(0)
    assert " yet" in empty and "match" not in empty
    assert 'data-testid="empty-add"' in empty
    client.force_login(viewer)
    empty = re.search(r'data-testid="empty-state".*?</div>', client.get(url).content.decode(), re.S)
    assert 'data-testid="empty-add"' not in empty.group(0)


@pytest.mark.parametrize("route", TABLES, ids=IDS)
def test_empty_filter_choices_read_any_field(route, op_client, tenant):
    # The API schema builds the fields of the class's filters; instances must not keep them.
    for flt in route.view_class.filterset_class.base_filters.values():
        assert flt.field is not None
    body = op_client.get(url_of(route, make_rows(route, tenant, 1))).content.decode()
    assert "---------" not in body
    form = re.search(r'<form id="filter-form".*?</form>', body, re.S)
    if form:
        for select in re.findall(r"<select.*?</select>", form.group(0), re.S):
            first = re.search(r'<option value=""[^>]*>(.*?)</option>', select)
            assert first and first.group(1).startswith("Any "), select[:200]
