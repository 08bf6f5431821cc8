"""The test-call page: dependent dropdown, each outcome rendered, explanation content,
save-as-check, tenancy, and a query count independent of the data size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Trunk
from routing.models import RoutingCheck
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RateFactory,
    RatePlanFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db
URL = reverse("routing:test_call")


@pytest.fixture
def manual(tenant):
    """The manual's example: a trunk linked to 374 and 39."""
    customer = CustomerFactory(tenant=tenant, name="Carrier")
    trunk = TrunkFactory(customer=customer, tech_prefix="9", name="main")
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.0/24")
    client = VMGateClientFactory(network=NetworkFactory(tenant=tenant), name="gw-yerevan")
    rules = {}
    for code in ("374", "39"):
        rule = RoutingRuleFactory(tenant=tenant, code=code)
        RoutingTargetFactory(rule=rule, client=client)
        DialpeerFactory(trunk=trunk, rule=rule, name=f"main → {code}")
        rules[code] = rule
    return {"customer": customer, "trunk": trunk, "rules": rules, "client": client}


def ask(client, manual, number, **extra):
    params = {"customer": manual["customer"].pk, "trunk": manual["trunk"].pk}
    params.update(called_number=number, **extra)
    return client.get(URL, params, HTTP_HX_REQUEST="true")


def test_page_needs_login(client):
    assert client.get(URL).status_code == 302


def test_sidebar_links_the_test_call_page(op_client):
    page = op_client.get(URL)
    assert page.status_code == 200
    assert f'href="{URL}"' in page.content.decode()


def test_routed_call_shows_outcome_steps_rule_targets_and_unbilled(op_client, manual):
    html = ask(op_client, manual, "9374 123-45").content.decode()
    assert "Routed → 302" in html
    assert "you typed <code>9374 123-45</code>" in html
    assert "<code>937412345</code>" in html and "<code>37412345</code>" in html
    assert "937412345 → 37412345" in html  # the tech prefix step
    assert manual["rules"]["374"].get_absolute_url() in html
    assert "gw-yerevan" in html and "unbilled: trunk has no rate plan" in html
    assert "shorter than the winner" not in html
    assert "code does not match" in html  # the 39 rule lost
    assert "last created" in html  # history of the chosen rule and dialpeer


def test_rejection_line_and_later_steps_not_reached(op_client, manual):
    html = ask(op_client, manual, "94412345").content.decode()
    assert "Rejected: no route → 404" in html
    assert 'aria-label="skip"' in html


@pytest.mark.parametrize(
    "number, text",
    [
        ("9abc", "Rejected: invalid number → 484"),
        ("5374", "Rejected: tech prefix mismatch → 404"),
    ],
)
def test_each_rejection_renders(op_client, manual, number, text):
    assert text in ask(op_client, manual, number).content.decode()


def test_source_ip_ingress_and_unknown_source(op_client, manual):
    html = op_client.get(
        URL, {"source_ip": "203.0.113.9", "called_number": "937412345"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Routed → 302" in html and "203.0.113.9 is authorized for main" in html
    html = op_client.get(
        URL, {"source_ip": "192.0.2.1", "called_number": "937412345"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Rejected: unknown source (no reply)" in html


def test_rate_shown_when_the_trunk_has_a_plan(op_client, manual, tenant):
    plan = RatePlanFactory(tenant=tenant, name="Retail", currency="EUR")
    RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.0125"))
    Trunk.objects.filter(pk=manual["trunk"].pk).update(rate_plan=plan)
    html = ask(op_client, manual, "937412345").content.decode()
    assert "Retail: code 374" in html and "0.0125 EUR/min" in html


def test_skipped_targets_and_candidate_reasons(op_client, manual, tenant):
    rule = manual["rules"]["374"]
    off = VMGateClientFactory(network=manual["client"].network, status="off", name="gw-off")
    RoutingTargetFactory(rule=rule, client=off)
    inactive = RoutingRuleFactory(tenant=tenant, code="3741", is_active=False)
    DialpeerFactory(trunk=manual["trunk"], rule=inactive, name="main → 3741")
    html = ask(op_client, manual, "937412345").content.decode()
    assert "skipped: client gw-off is off" in html
    assert "lost: rule inactive" in html


def test_invalid_form_input_is_a_field_error_not_a_500(op_client, manual, other_tenant):
    foreign = TrunkFactory(customer=CustomerFactory(tenant=other_tenant))
    cases = [
        {"customer": manual["customer"].pk, "trunk": foreign.pk, "called_number": "9374"},
        {"source_ip": "not-an-ip", "called_number": "9374"},
        {"called_number": "9374"},
        {
            "customer": manual["customer"].pk,
            "trunk": manual["trunk"].pk,
            "source_ip": "203.0.113.1",
            "called_number": "9374",
        },
        {"source_ip": "203.0.113.1", "called_number": "9\x00374"},
        {"source_ip": "203.0.113.1", "called_number": "9374", "at": "tomorrow-ish"},
    ]
    for params in cases:
        response = op_client.get(URL, params, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert 'data-testid="form-invalid"' in response.content.decode(), params
        assert 'data-testid="outcome"' not in response.content.decode()


def test_trunk_select_only_lists_the_chosen_customers_trunks(op_client, manual, tenant):
    other_customer = CustomerFactory(tenant=tenant, name="Other carrier")
    TrunkFactory(customer=other_customer, name="elsewhere")
    params = {"customer": manual["customer"].pk, "trunk": manual["trunk"].pk}
    page = op_client.get(URL, params).content.decode()
    assert "main (prefix 9)" in page and "elsewhere" not in page
    url = reverse("customers:trunk_options")
    options = op_client.get(url, {"by_customer": "1", "customer": manual["customer"].pk})
    assert "main (prefix 9)" in options.content.decode()
    assert "elsewhere" not in options.content.decode()
    options = op_client.get(
        url, {"by_customer": "1", "customer": other_customer.pk}
    ).content.decode()
    assert "elsewhere" in options and "main" not in options


def test_viewers_can_test_but_not_save(viewer_client, manual):
    response = ask(viewer_client, manual, "937412345")
    assert "Routed → 302" in response.content.decode()
    assert "Save as check" not in response.content.decode()
    assert viewer_client.post(reverse("routing:routingcheck_save"), {}).status_code == 403


def test_save_as_check_stores_the_current_outcome_and_rule(op_client, manual, tenant):
    response = op_client.post(
        reverse("routing:routingcheck_save"),
        {
            "customer": manual["customer"].pk,
            "trunk": manual["trunk"].pk,
            "called_number": "937412345",
            "name": "Armenia via main",
        },
    )
    assert response.status_code == 302
    check = RoutingCheck.objects.get(tenant=tenant)
    assert (check.name, check.expected_outcome, check.expected_reason) == (
        "Armenia via main",
        "routed",
        "routed",
    )
    assert check.expected_rule == manual["rules"]["374"] and check.trunk == manual["trunk"]
    assert check.last_passed is True
    op_client.post(
        reverse("routing:routingcheck_save"),
        {"source_ip": "203.0.113.9", "called_number": "94412345", "name": "UK has no route"},
    )
    rejected = RoutingCheck.objects.get(name="UK has no route")
    assert (rejected.expected_outcome, rejected.expected_reason, rejected.expected_rule) == (
        "rejected",
        "no_route",
        None,
    )
    assert str(rejected.source_ip) == "203.0.113.9"


def test_save_as_check_refuses_another_tenants_trunk(op_client, other_tenant, manual):
    foreign = TrunkFactory(customer=CustomerFactory(tenant=other_tenant))
    op_client.post(
        reverse("routing:routingcheck_save"),
        {
            "customer": foreign.customer.pk,
            "trunk": foreign.pk,
            "called_number": "9374",
            "name": "x",
        },
    )
    assert not RoutingCheck.objects.exists()


def test_another_tenants_data_is_invisible(op_client, other_tenant):
    customer = CustomerFactory(tenant=other_tenant)
    trunk = TrunkFactory(customer=customer, tech_prefix="9")
    TrunkNetworkFactory(trunk=trunk, network="198.51.100.0/24")
    html = op_client.get(
        URL, {"source_ip": "198.51.100.1", "called_number": "9374"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "unknown source" in html
    html = op_client.get(
        URL,
        {"customer": customer.pk, "trunk": trunk.pk, "called_number": "9374"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'data-testid="form-invalid"' in html


def _count(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("via", ["trunk", "source_ip"])
def test_query_count_does_not_grow_with_the_data(op_client, manual, tenant, via):
    params = {"called_number": "937412345"}
    if via == "trunk":
        params.update(customer=manual["customer"].pk, trunk=manual["trunk"].pk)
    else:
        params["source_ip"] = "203.0.113.9"
    # Measured warm: the first call after a change also builds or syncs the index, whose
    # queries follow the kinds of data changed, not the page.
    _count(op_client, params)
    small = _count(op_client, params)
    network = NetworkFactory(tenant=tenant)
    for i in range(40):
        rule = RoutingRuleFactory(tenant=tenant, code=f"37{i:02d}")
        RoutingTargetFactory(rule=rule, client=VMGateClientFactory(network=network))
        RoutingTargetFactory(rule=manual["rules"]["374"], network=network, client=None)
        DialpeerFactory(trunk=manual["trunk"], rule=rule)
        TrunkNetworkFactory(trunk=TrunkFactory(customer=manual["customer"]))
    _count(op_client, params)
    assert _count(op_client, params) == small
