"""Every detail page and the home page in Chromium at 1400×900 and 390×844: breadcrumbs
and the highlighted section are visible, History is a tab. Screenshots: screenshots/."""

import pytest

from tests.vmgate.portal_world import build_portal_world


def _url(obj):
    from django.urls import reverse

    from customers.models import Rate

    if isinstance(obj, Rate):  # no get_absolute_url on Rate
        return reverse("customers:rate_detail", args=[obj.pk])
    return obj.get_absolute_url()


pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DETAILS = [
    ("customer", "Customers"),
    ("trunk", "Trunks"),
    ("plan", "Rate plans"),
    ("rate", "Rate plans"),
    ("network", "Networks"),
    ("gw_a", "VMGateClients"),
    ("rule", "Routing rules"),
    ("dialpeer", "Dialpeers"),
]


def test_every_detail_page_shows_its_place_and_a_history_tab(page, login, shot, operator, tenant):
    world = build_portal_world(tenant)
    login("op-a")
    for width, height in ((1400, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"home-{width}")
        for key, section in DETAILS:
            page.goto(_url(world[key]))
            crumbs = page.get_by_test_id("breadcrumbs")
            assert crumbs.is_visible(), key
            assert crumbs.get_by_role("link", name="Home").is_visible()
            active = page.locator(".sidebar .nav-link.active")
            assert active.count() == 1 and active.inner_text() == section, key
            assert active.is_visible()
            page.get_by_role("tab", name="History").click()
            assert page.get_by_test_id("history").is_visible(), key
            shot(page, f"detail-{key}-{width}")
