"""The portal shell: write pages closed to viewers, support staff sent to the admin,
styled error pages, the favicon and the sidebar. Pages are found by walking the URL
configuration (tests/vmgate/portal_world.py), so a new page is covered without editing."""

import re

import pytest
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from tests.vmgate.portal_world import build_portal_world, is_write, portal_urls

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="(/[^"#?]*)')
POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*>', re.I)


@pytest.fixture
def world(tenant):
    return build_portal_world(tenant)


def _body(response):
    return response.content.decode()


def _styled(body):
    """The whole portal page: our stylesheet and the navbar, not Django's bare text."""
    return "css/portal.css" in body and 'class="navbar' in body


def test_the_walk_finds_write_pages_of_every_app(world):
    names = {name for name, _ in portal_urls(world) if is_write(name)}
    for expected in (
        "customers:customer_add",
        "customers:trunk_edit",
        "customers:rate_delete",
        "routing:routingrule_add",
        "routing:routingtarget_edit",
        "routing:routingcheck_delete",
        "dialpeers:dialpeer_add",
        "dialpeers:dialpeer_bulk",
    ):
        assert expected in names


def test_a_viewer_typing_any_write_address_gets_the_styled_403_and_no_form(viewer_client, world):
    checked = 0
    for name, path in portal_urls(world):
        if not is_write(name):
            continue
        response = viewer_client.get(path)
        body = _body(response)
        # POST-only endpoints (block, bulk, run, token add) answer 405 to any GET.
        assert response.status_code in (403, 405), (name, path, response.status_code)
        assert not [f for f in POST_FORM.findall(body) if "logout" not in f], (name, path)
        if response.status_code == 403:
            assert _styled(body) and 'data-testid="error-page"' in body, (name, path)
            assert "viewer" in body
            checked += 1
    assert checked >= 15


def test_no_page_shows_a_viewer_a_link_to_a_write_page_or_a_post_form(viewer_client, world):
    for name, path in portal_urls(world):
        if is_write(name):
            continue
        response = viewer_client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        body = _body(response)
        for href in HREF.findall(body):
            if href.startswith(("/static/", "/admin/")):
                continue
            match = resolve(href)
            assert not is_write(match.view_name), (path, href)
        forms = [f for f in POST_FORM.findall(body) if "logout" not in f]
        assert not forms, (path, forms)


def test_support_staff_land_on_the_admin_from_the_home_page(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert staff_client.get("/admin/").status_code == 200


def test_support_staff_never_get_a_tenant_page_or_an_error_anywhere(staff_client, world):
    for name, path in portal_urls(world):
        response = staff_client.get(path)
        assert response.status_code == 302, (name, path, response.status_code)
        assert response["Location"] == "/admin/", (name, path)


def test_a_login_without_tenant_or_staff_sees_the_home_page_without_tenant_links(client, world):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"] == "/"
    body = _body(client.get("/"))
    assert "belongs to no tenant" in body
    assert 'class="nav-link' not in body and "/customers/" not in body


def test_an_unknown_address_is_the_styled_404_with_the_sidebar(op_client, world):
    response = op_client.get("/no-such-page/")
    body = _body(response)
    assert response.status_code == 404
    assert _styled(body) and "Page not found" in body and "/no-such-page/" in body
    assert 'href="/customers/"' in body  # the sidebar is there to go on from


def test_another_tenants_object_is_the_styled_404(op_client, world, other_tenant):
    from tests.factories import CustomerFactory

    foreign = CustomerFactory(tenant=other_tenant)
    response = op_client.get(f"/customers/{foreign.pk}/")
    assert response.status_code == 404 and "Page not found" in _body(response)


@pytest.mark.urls("tests.vmgate.urls_boom")
def test_a_server_error_is_the_styled_500(op_client, world):
    op_client.raise_request_exception = False
    response = op_client.get("/boom/")
    body = _body(response)
    assert response.status_code == 500
    assert _styled(body) and "Something went wrong" in body


@pytest.mark.parametrize("name", ["500.html", "503.html"])
def test_500_and_503_render_without_a_request_and_without_the_database(name):
    template = get_template(name)
    with CaptureQueriesContext(connection) as queries:
        body = template.render({})
    assert len(queries) == 0
    assert _styled(body) and 'data-testid="error-page"' in body
    # Nothing in them or their base reads the user, the tenant or the session.
    for source in (template.template.source, get_template("error_base.html").template.source):
        assert "user" not in source and "tenant" not in source and "csrf" not in source


def test_the_favicon_is_served_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")


def test_every_page_links_the_icon(op_client, world):
    body = _body(op_client.get("/"))
    assert 'rel="icon"' in body and "favicon.svg" in body


@pytest.mark.parametrize(
    "path_of, section",
    [
        (lambda w: f"/customers/{w['customer'].pk}/", "/customers/"),
        (lambda w: f"/customers/{w['customer'].pk}/edit/", "/customers/"),
        (lambda w: f"/customers/trunks/{w['trunk'].pk}/", "/customers/trunks/"),
        (lambda w: f"/customers/rates/{w['rate'].pk}/", "/customers/rateplans/"),
        (lambda w: f"/routing/rules/{w['rule'].pk}/targets/", "/routing/rules/"),
        (lambda w: "/routing/checks/add/", "/routing/checks/"),
        (lambda w: f"/dialpeers/{w['dialpeer'].pk}/", "/dialpeers/"),
    ],
)
def test_the_sidebar_highlights_the_section_of_detail_and_form_pages(
    op_client, world, path_of, section
):
    body = _body(op_client.get(path_of(world)))
    active = re.findall(r'<a class="nav-link active[^"]*" href="([^"]+)"', body)
    assert active == [section]


CRUMBED = ("detail", "add", "edit", "delete", "targets")


def test_every_detail_and_form_page_has_breadcrumbs_home_and_its_section(op_client, world):
    checked = 0
    for name, path in portal_urls(world):
        if name.rsplit("_", 1)[-1] not in CRUMBED:
            continue
        response = op_client.get(path)
        if response.status_code == 405:  # POST-only
            continue
        assert response.status_code == 200, (name, path, response.status_code)
        body = _body(response)
        assert 'data-testid="breadcrumbs"' in body, (name, path)
        crumbs = body.split('data-testid="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
        assert '<a href="/">Home</a>' in crumbs, (name, path)
        # The section's list is a crumb, and it is the highlighted sidebar item.
        active = re.findall(r'<a class="nav-link active[^"]*" href="([^"]+)"', body)
        assert len(active) == 1 and f'href="{active[0]}"' in crumbs, (name, path, active)
        checked += 1
    assert checked >= 20


def test_lists_carry_no_breadcrumbs(op_client, world):
    assert 'data-testid="breadcrumbs"' not in _body(op_client.get("/customers/"))
