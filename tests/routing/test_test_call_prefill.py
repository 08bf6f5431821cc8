""" "Test a call" shortcuts open the Test call page pre-filled (not run); bad or foreign
values in the address are ignored, never an error."""

import re
from html import unescape

import pytest

from tests.factories import RoutingCheckFactory, TrunkFactory, build_route_world

pytestmark = pytest.mark.django_db


def _shortcut(body):
    match = re.search(r'href="([^"]+)" data-testid="test-a-call"', body)
    return unescape(match.group(1))


def _value(body, name):
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return unescape(value.group(1)) if value else ""


def _selected(body, name):
    select = body.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\d+)"[^>]*selected', select)


def test_a_dialpeer_opens_test_call_with_its_customer_trunk_and_code(op_client, tenant):
    w = build_route_world(tenant)
    url = _shortcut(op_client.get(w["dialpeer"].get_absolute_url()).content.decode())
    assert url.startswith("/routing/test-call/?prefill=1")
    body = op_client.get(url).content.decode()
    assert _selected(body, "customer") == [str(w["customer"].pk)]
    assert _selected(body, "trunk") == [str(w["trunk"].pk)]
    assert _value(body, "called_number") == "99374"  # tech prefix + the rule's code
    assert 'data-testid="outcome"' not in body  # pre-filled, not run yet


def test_a_trunk_opens_test_call_with_its_customer_and_trunk(viewer_client, tenant):
    w = build_route_world(tenant)
    url = _shortcut(viewer_client.get(w["trunk"].get_absolute_url()).content.decode())
    body = viewer_client.get(url).content.decode()
    assert _selected(body, "trunk") == [str(w["trunk"].pk)]
    assert _value(body, "called_number") == "99"


def test_a_failing_check_on_a_source_ip_opens_test_call_with_that_ip(op_client, tenant):
    w = build_route_world(tenant)
    RoutingCheckFactory(
        tenant=tenant,
        trunk=None,
        source_ip="203.0.113.9",
        called_number="9937499",
        last_passed=False,
    )
    home = op_client.get("/").content.decode()
    card = home.split('data-testid="attention-checks"', 1)[1]
    url = unescape(re.search(r'href="(/routing/test-call/\?[^"]+)"', card).group(1))
    body = op_client.get(url).content.decode()
    assert _value(body, "source_ip") == "203.0.113.9"
    assert _value(body, "called_number") == "9937499"
    assert w  # the world the check routes in


@pytest.mark.parametrize(
    "query",
    [
        "trunk=abc&customer=-1&called_number=%3Cscript%3E&source_ip=999.1.1.1&at=soon",
        "trunk=99999999999999999999&customer=0&called_number=12%00&source_ip=1.2.3.4%00",
        "trunk=%00&called_number=" + "1" * 200 + "&at=2026-13-45+99:99",
        "customer=%D9%A3&called_number=%D9%A3%D9%A4",  # Arabic-Indic digits
    ],
)
def test_bad_prefill_values_are_ignored_never_an_error(op_client, tenant, query):
    build_route_world(tenant)
    response = op_client.get(f"/routing/test-call/?prefill=1&{query}")
    assert response.status_code == 200
    body = response.content.decode()
    assert _value(body, "called_number") == "" and _value(body, "source_ip") == ""
    assert "is-invalid" not in body  # ignored, not reported as errors


def test_another_tenants_trunk_is_ignored(op_client, tenant, other_tenant):
    build_route_world(tenant)
    foreign = TrunkFactory(customer__tenant=other_tenant)
    url = f"/routing/test-call/?prefill=1&customer={foreign.customer_id}&trunk={foreign.pk}"
    body = op_client.get(url).content.decode()
    assert response_ok(op_client, url)
    assert str(foreign.pk) not in _selected(body, "trunk")
    assert foreign.customer.name not in body


def response_ok(client, url):
    return client.get(url).status_code == 200
