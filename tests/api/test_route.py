"""POST /api/v1/route/: every outcome of SPEC §5 through HTTP, explain, rtjson, bad bodies."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer, Trunk, TrunkNumberList
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)
from tests.factories import (
    DialpeerFactory,
    RateFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    build_route_world,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/route/"
NUMBER = "9937412345678"  # tech prefix 99 + 37412345678


@pytest.fixture
def world(tenant):
    return build_route_world(tenant)


def route(api, **body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_routed_call_by_source_ip(op_api, world):
    d = route(op_api, called_number=NUMBER, source_ip="203.0.113.10")
    assert (d["outcome"], d["reason"], d["sip_code"]) == ("routed", "routed", 302)
    assert d["number"] == "37412345678"
    assert d["called_number"] == NUMBER
    assert d["trunk"]["id"] == world["trunk"].pk
    assert d["customer"]["id"] == world["customer"].pk
    assert d["dialpeer"] == {"id": world["dialpeer"].pk, "name": "AM"}
    assert d["rule"]["id"] == world["rule"].pk and d["rule"]["code"] == "374"
    assert [t["client"]["name"] for t in d["targets"]] == ["gw-a", "gw-b"]
    assert d["rate"]["rate_per_min"] == "0.050000"
    assert d["unbilled"] is False
    assert "candidates" not in d


def test_a_routed_call_by_trunk_id_and_ipv4_mapped_source(op_api, world):
    by_trunk = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    mapped = route(op_api, called_number=NUMBER, source_ip="::ffff:203.0.113.10")
    assert by_trunk["outcome"] == mapped["outcome"] == "routed"
    assert by_trunk["rule"] == mapped["rule"]


@pytest.mark.parametrize(
    ("change", "body", "reason", "sip_code"),
    [
        (None, {"called_number": "99 374"}, "invalid_number", 484),
        (None, {"called_number": "99٣٧٤"}, "invalid_number", 484),
        (None, {"called_number": ""}, "invalid_number", 484),
        (None, {"called_number": NUMBER, "source_ip": "192.0.2.1"}, "unknown_source", None),
        (None, {"called_number": "5537412345678"}, "tech_prefix_mismatch", 404),
        (("trunk", "status", "disabled"), {}, "trunk_disabled", 403),
        (("customer", "status", "blocked"), {}, "customer_blocked", 403),
        (("customer", "balance", Decimal("0")), {}, "insufficient_balance", 402),
        (None, {"called_number": "9944123456"}, "no_route", 404),
        (("dialpeer", "is_active", False), {}, "no_route", 404),
        (("clients", "status", "off"), {}, "no_target", 503),
        (("rate", None, None), {}, "no_rate", 403),
    ],
)
def test_each_rejection_is_a_200_with_its_reason_and_sip_code(
    op_api, world, change, body, reason, sip_code
):
    if change:
        what, field, value = change
        if what == "clients":
            VMGateClient.objects.filter(pk__in=[world["gw_a"].pk, world["gw_b"].pk]).update(
                status=value
            )
        elif what == "rate":
            world["plan"].rates.all().delete()
            RateFactory(rate_plan=world["plan"], code="375")
        elif field == "balance":  # moved only by balance entries, never by a save
            type(world[what]).objects.filter(pk=world[what].pk).update(balance=value)
        else:
            obj = world[what]  # an UPDATE (a save no longer writes a customer's balance)
            type(obj).objects.filter(pk=obj.pk).update(**{field: value})
    request = {"called_number": NUMBER, "source_ip": "203.0.113.10", **body}
    d = route(op_api, **request)
    assert (d["outcome"], d["reason"], d["sip_code"]) == ("rejected", reason, sip_code)


def test_a_trunk_without_rate_plan_routes_unbilled(op_api, world):
    Trunk.objects.filter(pk=world["trunk"].pk).update(rate_plan=None)
    d = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    assert d["outcome"] == "routed"
    assert d["unbilled"] is True and d["rate"] is None


def test_explain_lists_candidates_and_why_they_lost(op_api, world, tenant):
    short = RoutingRuleFactory(tenant=tenant, code="37")
    RoutingTargetFactory(rule=short, client=world["gw_a"])
    DialpeerFactory(
        trunk=world["trunk"], customer=world["customer"], rule=short, name="short", tenant=tenant
    )
    d = route(op_api, called_number=NUMBER, source_ip="203.0.113.10", explain=True)
    assert d["rule"]["id"] == world["rule"].pk
    by_rule = {c["rule"]["id"]: c for c in d["candidates"]}
    assert by_rule[world["rule"].pk]["won"] is True
    assert by_rule[short.pk]["won"] is False and by_rule[short.pk]["why"]
    assert d["steps"] and "skipped_targets" in d


def test_rtjson_answers_in_kamailios_routing_document_shape(op_api, world):
    response = op_api.post(
        URL + "?format=rtjson", {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "version": "1.0",
        "routing": "serial",
        "routes": [
            {"uri": "sip:37412345678@10.8.0.12:5060"},
            {"uri": "sip:37412345678@10.8.0.13:5070"},
        ],
        "contacts": "sip:37412345678@10.8.0.12:5060|sip:37412345678@10.8.0.13:5070",
        "edge": f"302:routed:{world['trunk'].pk}:{world['dialpeer'].pk}:{world['rule'].pk}:374:"
        "Moved Temporarily",
        "outcome": "routed",
        "reason": "routed",
        "sip_code": 302,
        "sip_reason": "Moved Temporarily",
        "dialpeer": {"id": world["dialpeer"].pk, "name": "AM"},
        "rule": {
            "id": world["rule"].pk,
            "code": "374",
            "label": "Armenia",
            "name": "374 — Armenia",
        },
        "trunk": {"id": world["trunk"].pk},
    }


def test_rtjson_of_a_rejection_carries_the_answer_and_no_routes(op_api, world):
    Customer.objects.filter(pk=world["customer"].pk).update(status="blocked")
    doc = op_api.post(
        URL + "?format=rtjson", {"called_number": NUMBER, "trunk": world["trunk"].pk}
    ).json()
    assert doc["routes"] == [] and doc["contacts"] == ""
    assert (doc["outcome"], doc["reason"], doc["sip_code"]) == ("rejected", "customer_blocked", 403)
    assert doc["edge"] == f"403:customer_blocked:{world['trunk'].pk}::::Forbidden"
    unknown = op_api.post(
        URL + "?format=rtjson", {"called_number": NUMBER, "source_ip": "198.18.0.1"}
    ).json()
    assert unknown["reason"] == "unknown_source" and unknown["sip_code"] is None
    assert unknown["dialpeer"] is None and unknown["rule"] is None and unknown["trunk"] is None
    assert unknown["edge"] == ":unknown_source:::::"


def test_edge_format_is_the_edge_line_and_the_contacts_as_two_lines_of_text(op_api, world):
    """?format=edge: what the SIP edge reads and nothing else (no JSON for it to parse)."""
    ids = f"{world['trunk'].pk}:{world['dialpeer'].pk}:{world['rule'].pk}"
    response = op_api.post(
        URL + "?format=edge", {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        f"302:routed:{ids}:374:Moved Temporarily\n"
        "sip:37412345678@10.8.0.12:5060|sip:37412345678@10.8.0.13:5070\n"
    )
    rtjson = op_api.post(
        URL + "?format=rtjson", {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    ).json()
    assert response.content.decode() == f"{rtjson['edge']}\n{rtjson['contacts']}\n"
    unknown = op_api.post(
        URL + "?format=edge", {"called_number": NUMBER, "source_ip": "198.18.0.1"}
    )
    assert unknown.content.decode() == ":unknown_source:::::\n\n"
    Customer.objects.filter(pk=world["customer"].pk).update(status="blocked")
    blocked = op_api.post(
        URL + "?format=edge", {"called_number": NUMBER, "trunk": world["trunk"].pk}
    )
    assert blocked.content.decode() == f"403:customer_blocked:{world['trunk'].pk}::::Forbidden\n\n"
    # a refusal keeps its status and its JSON field errors
    bad = op_api.post(URL + "?format=edge", {"called_number": "1" * 65, "trunk": world["trunk"].pk})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "called_number" in json.loads(bad.content)
    options = op_api.options(URL + "?format=edge")  # schemathesis found this one a 500
    assert options.status_code == 200 and options["Content-Type"] == "application/json"


def test_the_calling_number_reaches_the_lists_and_each_contact_dials_its_own_number(
    op_api, world, tenant
):
    """SPEC §9 through the API: the From number is checked by a calling list (403,
    naming it), and each Contact's user part is its target's egress-translated number."""
    callers = NumberList.objects.create(
        tenant=tenant, name="Barred callers", kind="deny", applies_to="calling"
    )
    NumberListEntry.objects.create(number_list=callers, value="37410", match="prefix")
    TrunkNumberList.objects.create(trunk=world["trunk"], number_list=callers)
    body = {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    barred = route(op_api, **body, calling_number="+37410555")
    assert (barred["reason"], barred["sip_code"]) == ("number_blocked", 403)
    assert barred["number_list"]["name"] == "Barred callers"
    assert barred["calling_number"] == "37410555"
    edge = op_api.post(URL + "?format=edge", {**body, "calling_number": "37410555"})
    assert edge.content.decode() == (f"403:number_blocked:{world['trunk'].pk}::::Forbidden\n\n")
    national = TranslationSet.objects.create(tenant=tenant, name="national")
    TranslationRule.objects.create(
        translation_set=national, position=1, match="374([0-9]+)", replace=r"0\1"
    )
    abroad = Network.objects.create(tenant=tenant, name="national", egress_translation=national)
    VMGateClient.objects.filter(pk=world["gw_b"].pk).update(network=abroad)
    edge = op_api.post(URL + "?format=edge", {**body, "calling_number": "37499"})
    assert edge.content.decode().splitlines()[1] == (
        "sip:37412345678@10.8.0.12:5060|sip:012345678@10.8.0.13:5070"
    )
    answer = route(op_api, **body)
    assert [t["number"] for t in answer["targets"]] == ["37412345678", "012345678"]
    assert answer["calling_number"] is None and answer["number_list"] is None


def test_patching_a_client_changes_the_very_next_decision(op_api, world):
    first = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    assert [t["client"]["name"] for t in first["targets"]] == ["gw-a", "gw-b"]
    gw_a = reverse("api:vmgateclient-detail", args=[world["gw_a"].pk])
    response = op_api.patch(gw_a, {"active_calls": 3}, format="json")
    assert response.status_code == 200
    loaded = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    assert [t["client"]["name"] for t in loaded["targets"]] == ["gw-b", "gw-a"]
    assert op_api.patch(gw_a, {"status": "off"}, format="json").status_code == 200
    off = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    assert [t["client"]["name"] for t in off["targets"]] == ["gw-b"]


def test_deactivating_a_dialpeer_through_the_api_stops_routing(op_api, world):
    url = reverse("api:dialpeer-detail", args=[world["dialpeer"].pk])
    assert op_api.patch(url, {"is_active": False}, format="json").status_code == 200
    d = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk)
    assert d["reason"] == "no_route"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": NUMBER}, "non_field_errors"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10", "trunk": 1}, "non_field_errors"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.300"}, "source_ip"),
        ({"called_number": NUMBER, "source_ip": "fe80::1%eth0"}, "source_ip"),
        ({"called_number": NUMBER, "source_ip": ""}, "source_ip"),
        ({"called_number": NUMBER, "source_ip": 3405803786}, "source_ip"),
        ({"called_number": 9937412345678, "source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": None, "source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": ["99374"], "source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": "9" * 65, "source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": "99374\x00", "source_ip": "203.0.113.10"}, "called_number"),
        ({"called_number": NUMBER, "trunk": "1"}, "trunk"),
        ({"called_number": NUMBER, "trunk": True}, "trunk"),
        ({"called_number": NUMBER, "trunk": 10**30}, "trunk"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10", "at": "yesterday"}, "at"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10", "at": 1700000000}, "at"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10", "explain": "yes"}, "explain"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": "anonymous"}, "calling_number"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": 37410}, "calling_number"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": "1" * 25}, "calling_number"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": "+"}, "calling_number"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": "374\x00"}, "calling_number"),
        ({"called_number": NUMBER, "trunk": 1, "calling_number": "٣٧٤"}, "calling_number"),
    ],
)
def test_malformed_requests_are_400_naming_the_field(op_api, world, body, field):
    response = op_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"99374"', b"{"])
def test_a_body_that_is_not_a_json_object_is_400(op_api, world, raw):
    response = op_api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400


def test_a_trunk_of_another_tenant_reads_like_a_missing_one(op_api, world, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant, tech_prefix="99")
    forged = op_api.post(URL, {"called_number": NUMBER, "trunk": theirs.pk}, format="json")
    missing = op_api.post(URL, {"called_number": NUMBER, "trunk": theirs.pk + 999}, format="json")
    assert forged.status_code == missing.status_code == 400
    assert forged.json() == missing.json()


def test_another_tenants_networks_never_match(op_api, world, other_tenant):
    theirs = TrunkFactory(customer__tenant=other_tenant, tech_prefix="99")
    TrunkNetworkFactory(trunk=theirs, network="198.51.100.0/24")
    d = route(op_api, called_number=NUMBER, source_ip="198.51.100.7")
    assert d["reason"] == "unknown_source"


def test_the_call_time_picks_the_rate(op_api, world):
    RateFactory(
        rate_plan=world["plan"],
        code="374",
        valid_since="2026-06-01T00:00:00Z",
        rate_per_min=Decimal("0.09"),
    )
    early = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk, at="2026-03-01T00:00:00Z")
    late = route(op_api, called_number=NUMBER, trunk=world["trunk"].pk, at="2026-07-01T00:00:00Z")
    assert early["rate"]["rate_per_min"] == "0.050000"
    assert late["rate"]["rate_per_min"] == "0.090000"
    assert late["at"] == "2026-07-01T00:00:00Z"


def test_anonymous_is_401_and_a_viewer_token_may_look_routes_up(anon_api, viewer_api, world):
    body = {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    assert anon_api.post(URL, body, format="json").status_code == 401
    assert viewer_api.post(URL, body, format="json").json()["outcome"] == "routed"


def test_another_tenants_operator_sees_none_of_it(other_op_api, world):
    d = other_op_api.post(URL, {"called_number": NUMBER, "source_ip": "203.0.113.10"}).json()
    assert d["reason"] == "unknown_source"
    response = other_op_api.post(URL, {"called_number": NUMBER, "trunk": world["trunk"].pk})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"called_number": NUMBER, "source_ip": "203.0.113.10"},
        {"called_number": NUMBER, "source_ip": "203.0.113.10", "explain": True},
        {"called_number": "99 1", "source_ip": "203.0.113.10"},
        {"called_number": NUMBER, "trunk": 1},
        {"called_number": NUMBER, "trunk": 2**63},
        {"called_number": NUMBER, "trunk": 0},
        {"called_number": NUMBER, "source_ip": " 203.0.113.10"},
        {"called_number": NUMBER, "source_ip": "203.0.113.10", "explain": 1},
        {"called_number": NUMBER, "source_ip": "203.0.113.10", "at": "2026-01-01T00:00:00Z"},
        {"called_number": NUMBER, "trunk": 1, "calling_number": "+37410"},
        {"called_number": NUMBER, "trunk": 1, "calling_number": ""},
        {"called_number": NUMBER, "trunk": 1, "calling_number": "x"},
        {"called_number": NUMBER, "trunk": 1, "calling_number": None},
        {"called_number": NUMBER},
        [],
    ],
)
def test_the_quick_path_accepts_only_what_the_serializer_accepts(body):
    from routing.engine.http import RouteLookupSerializer, quick_lookup

    quick = quick_lookup(body)
    full = RouteLookupSerializer(data=body)
    if quick is not None:
        assert full.is_valid(), full.errors
        assert quick == dict(full.validated_data)
