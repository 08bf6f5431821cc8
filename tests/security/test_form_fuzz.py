"""Every add/edit form of the portal, posted odd values (NUL, huge, Arabic-Indic digits,
negative, out of range, markup, …) in every field: never a 5xx, never a traceback logged.

The forms come from the URL configuration (names ending ``_add`` or ``_edit``); their
fields from the rendered form itself, so a new form or field is fuzzed without being listed.
Bounded: EXAMPLES posts per form (a few hundred in all), derandomized for CI.
"""

import logging
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.isolation.test_route_coverage import ID_OF, NOT_AN_ID, object_world
from tests.security.routes import all_routes

pytestmark = pytest.mark.django_db

EXAMPLES = 12
FORM_ROUTES = [
    r for r in all_routes() if r.name.endswith(("_add", "_edit")) and not r.name.startswith("api:")
]

ODD = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "0",
            "-1",
            "-99999999999999999999999",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "Infinity",
            "0.0000000001",
            "٣٧٤",  # Arabic-Indic digits
            "３７４",  # full-width digits
            "2026-02-30",
            "<script>alert(1)</script>",
            "sip:x\r\nX: y",
            "999.999.999.999/99",
            "::1/200",
            "[]",
            "{}",
            "on",
            "x" * 100_000,
            "9" * 5_000,
        ]
    ),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

FIELD_NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def form_fields(html):
    """Field names of the page's POST form(s) in <main> (the CSRF token aside)."""
    main = html.split("<main", 1)[-1]
    forms = re.findall(r'<form[^>]*method="post".*?</form>', main, flags=re.S | re.I)
    names = []
    for form in forms:
        names += [n for n in FIELD_NAME.findall(form) if n != "csrfmiddlewaretoken"]
    return sorted(set(names))


def test_every_form_is_fuzzed():
    assert len(FORM_ROUTES) >= 15, [r.name for r in FORM_ROUTES]
    uncovered = [
        r.name for r in FORM_ROUTES if r.params and r.name not in ID_OF and r.name not in NOT_AN_ID
    ]
    assert not uncovered, f"add these routes to tests/isolation ID_OF: {uncovered}"


@pytest.fixture
def world(tenant, operator):
    return object_world(tenant, operator)


@pytest.mark.parametrize("route", FORM_ROUTES, ids=[r.name for r in FORM_ROUTES])
def test_odd_values_in_every_field_never_cause_a_server_error(route, world, operator, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    if route.name in NOT_AN_ID:
        path = route.path(**NOT_AN_ID[route.name])
    else:
        path = route.path(**{p: world[ID_OF[route.name]].pk for p in route.params})
    page = client.get(path)
    if page.status_code == 405:  # a POST-only action whose form sits on the page above
        page = client.get(path.rstrip("/").rsplit("/", 1)[0] + "/")
    assert page.status_code == 200, path
    fields = form_fields(page.content.decode())
    assert fields, f"no form fields found on {path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({name: ODD for name in fields}))
    def post_odd(data):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            response = client.post(path, data)
        assert response.status_code < 500, (path, data, response.status_code)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert not errors, (path, [r.getMessage() for r in errors])

    post_odd()
