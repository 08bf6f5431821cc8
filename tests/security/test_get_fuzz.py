"""The GET forms and endpoints the routing policy added or widened, fed odd query values
(NUL, huge, Arabic-Indic digits, markup, …; the form fuzz's own set) in every parameter:
the test call (calling number and time beside the rest), a translation set's test box, the
policy options endpoint, and a list's child exports. Never a 5xx, never a traceback
logged. Bounded: EXAMPLES requests per endpoint, derandomized for CI."""

import logging

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    ScheduleWindowFactory,
    TranslationRuleFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)
from tests.security.test_form_fuzz import ODD

pytestmark = pytest.mark.django_db

EXAMPLES = 25

ENDPOINTS = {
    "test call": (
        lambda w: reverse("routing:test_call"),
        ["customer", "trunk", "source_ip", "called_number", "calling_number", "at", "prefill"],
    ),
    "test box": (
        lambda w: reverse("routing:translationset_test", args=[w["set"]]),
        ["number"],
    ),
    "policy options": (
        lambda w: reverse("routing:policy_options"),
        ["kind", "q", "translation_set", "number_list", "schedule", "ingress_translation"],
    ),
    "set list export": (lambda w: reverse("routing:translationset_list"), ["export", "q", "sort"]),
    "schedule list export": (lambda w: reverse("routing:schedule_list"), ["export", "q", "sort"]),
}


@pytest.fixture
def world(tenant):
    rule = TranslationRuleFactory(translation_set__tenant=tenant)
    ScheduleWindowFactory(schedule__tenant=tenant)
    trunk = TrunkFactory(customer__tenant=tenant, tech_prefix="9")
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.0/24")
    return {"set": rule.translation_set_id, "trunk": trunk.pk, "customer": trunk.customer_id}


VALUES = st.one_of(ODD, st.sampled_from(["rules", "windows", "targets", "csv", "1", "schedule"]))


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_odd_query_values_never_cause_a_server_error(name, world, operator, caplog):
    make_url, params = ENDPOINTS[name]
    url = make_url(world)
    client = Client()
    client.force_login(operator)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(params), VALUES, max_size=len(params)))
    def fuzz(query):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, query, headers=headers)
                assert response.status_code < 500, (query, response.status_code)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], query

    fuzz()
