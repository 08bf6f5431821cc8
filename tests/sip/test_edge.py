"""The SIP edge end to end: sipp → Kamailio (deploy/kamailio/kamailio.cfg) → route API
(gunicorn, PostgreSQL test database) → the SIP answer, asserted from sipp's message log."""

from __future__ import annotations

import json
import time
import urllib.request
from decimal import Decimal

import pytest

from customers.models import Customer, TrunkNumberList
from routing.models import (
    NumberList,
    NumberListEntry,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)
from tests.sip.conftest import TECH
from tests.sip.edge import free_port, load_302, sipp

pytestmark = [pytest.mark.sip, pytest.mark.django_db(transaction=True)]


def call(edge, sip_dir, number, source_ip="127.0.0.1", caller="caller"):
    """One INVITE through the edge; returns the sipp run (answer asserted by the caller).
    Waits first for the edge to know ``source_ip`` (it reloads the networks every 2 s).
    ``caller`` is the From user part."""
    edge.wait_authorized(source_ip)
    run = sipp(edge.port, "invite.xml", sip_dir, number=number, source_ip=source_ip, caller=caller)
    assert run.answers, f"no answer to {number}:\n{run.output}\n{edge.log.read_text()[-2000:]}"
    return run


def contacts(answer):
    """[(uri, q)] of every Contact header, in order."""
    out = []
    for value in answer.all("Contact"):
        uri, _, params = value.partition(">")
        q = dict(p.split("=", 1) for p in params.strip(";").split(";") if "=" in p).get("q")
        out.append((uri.lstrip("<"), float(q)))
    return out


def test_max_contacts_caps_the_contacts_in_their_order(start_edge, carrier, sip_dir):
    edge = start_edge(max_contacts=1)
    answer = call(edge, sip_dir, TECH + "37412345").answer
    assert answer.code == 302
    assert contacts(answer) == [("sip:37412345@10.8.0.12:5060", 1.0)]


def test_manual_example_through_real_sip(edge, carrier, sip_dir, tenant):
    run = call(edge, sip_dir, TECH + "37412345")
    answer = run.answer
    assert (answer.code, answer.reason_phrase) == (302, "Moved Temporarily")
    # one Contact per target, in the engine's order (least active calls first), q decreasing
    assert contacts(answer) == [
        ("sip:37412345@10.8.0.12:5060", 1.0),
        ("sip:37412345@10.8.0.13:5070", 0.99),
    ]
    assert answer.one("X-VMGate-Dialpeer") == str(carrier.dp_am.pk)
    assert answer.one("X-VMGate-Rule") == f"{carrier.am.pk};code=374"
    assert answer.one("X-VMGate-Reason") == "routed"
    # the ACK went back, on the INVITE's transaction
    assert [m.start_line.split()[0] for m in run.sent] == ["INVITE", "ACK"]

    answer = call(edge, sip_dir, TECH + "3912345").answer
    assert answer.code == 302
    assert contacts(answer) == [("sip:3912345@10.8.1.20:5060", 1.0)]
    assert answer.one("X-VMGate-Rule") == f"{carrier.it.pk};code=39"

    answer = call(edge, sip_dir, TECH + "4412345").answer
    assert (answer.code, answer.reason_phrase) == (404, "No Route")
    assert answer.one("X-VMGate-Reason") == "no_route"
    assert answer.all("Contact") == []
    assert answer.all("X-VMGate-Dialpeer") == []

    gw_any = VMGateClientFactory(
        network=carrier.net, tenant=tenant, name="gw-any", sip_uri="sip:10.8.9.9:5062"
    )
    anything = RoutingRuleFactory(tenant=tenant, code="", label="Anything")
    RoutingTargetFactory(rule=anything, client=gw_any)
    dp_any = DialpeerFactory(trunk=carrier.trunk, rule=anything, name="A to anywhere")

    # The edit was committed by this (test) process; gunicorn's processes see it within
    # 1 s (SPEC §5), not necessarily on the very next INVITE.
    answer = answer_within(edge, sip_dir, TECH + "4412345", 302, seconds=1.0)
    assert contacts(answer) == [("sip:4412345@10.8.9.9:5062", 1.0)]
    assert answer.one("X-VMGate-Dialpeer") == str(dp_any.pk)
    assert answer.one("X-VMGate-Rule") == f"{anything.pk};code=*"
    # the longer code still wins over the catch-all
    assert contacts(call(edge, sip_dir, TECH + "37412345").answer)[0][0].endswith("@10.8.0.12:5060")


def test_a_network_target_gives_one_contact_per_ready_client_in_load_order(
    edge, carrier, sip_dir, tenant
):
    fleet = NetworkFactory(tenant=tenant, name="Fleet")
    clients = [
        VMGateClientFactory(
            network=fleet,
            tenant=tenant,
            name=f"fleet-{i}",
            sip_uri=f"sip:10.20.0.{i}:5060",
            active_calls=20 - i,
        )
        for i in range(1, 19)
    ]
    VMGateClientFactory(network=fleet, tenant=tenant, status=VMGateClient.OFF)
    rule = RoutingRuleFactory(tenant=tenant, code="44", label="UK")
    RoutingTargetFactory(rule=rule, client=None, network=fleet)
    DialpeerFactory(trunk=carrier.trunk, rule=rule, name="A to UK")

    answer = call(edge, sip_dir, TECH + "447700900").answer
    assert answer.code == 302
    # least active calls first: the last client created has the fewest
    expected = ["sip:447700900@" + c.sip_uri.removeprefix("sip:") for c in reversed(clients)]
    got = contacts(answer)
    assert [uri for uri, _ in got] == expected
    assert [q for _, q in got] == [round(1 - i / 100, 2) for i in range(18)]


def test_routing_policy_through_real_sip(edge, carrier, sip_dir, tenant):
    """SPEC §9 at the edge: the From user part is the calling number (a barred caller gets
    403, "anonymous" is no calling number), a blocked called number gets 403, and each
    Contact's user part is its target's number after its network's egress translation."""
    barred = NumberList.objects.create(
        tenant=tenant, name="Barred callers", kind="deny", applies_to="calling"
    )
    NumberListEntry.objects.create(number_list=barred, value="37410", match="prefix")
    premium = NumberList.objects.create(tenant=tenant, name="Premium", kind="deny")
    NumberListEntry.objects.create(number_list=premium, value="3749", match="prefix")
    for nl in (barred, premium):
        TrunkNumberList.objects.create(trunk=carrier.trunk, number_list=nl)
    national = TranslationSet.objects.create(tenant=tenant, name="Armenia national")
    TranslationRule.objects.create(
        translation_set=national, position=1, match="374([0-9]+)", replace=r"0\1"
    )
    abroad = NetworkFactory(tenant=tenant, name="Gyumri", egress_translation=national)
    VMGateClient.objects.filter(pk=carrier.gw2.pk).update(network=abroad)

    answer = call(edge, sip_dir, TECH + "37412345", caller="+37410555123").answer
    assert (answer.code, answer.reason_phrase) == (403, "Forbidden")
    assert answer.one("X-VMGate-Reason") == "number_blocked"
    answer = call(edge, sip_dir, TECH + "37491234", caller="37499555123").answer
    assert (answer.code, answer.one("X-VMGate-Reason")) == (403, "number_blocked")
    answer = call(edge, sip_dir, TECH + "37412345", caller="anonymous").answer
    assert answer.code == 302
    assert contacts(answer) == [
        ("sip:37412345@10.8.0.12:5060", 1.0),
        ("sip:012345@10.8.0.13:5070", 0.99),
    ]
    answer = call(edge, sip_dir, TECH + "37412345", caller="37499555123").answer
    assert answer.code == 302


def test_blocked_customer_gets_403(edge, carrier, sip_dir):
    Customer.objects.filter(pk=carrier.customer.pk).update(status=Customer.BLOCKED)
    answer = call(edge, sip_dir, TECH + "37412345").answer
    assert (answer.code, answer.reason_phrase) == (403, "Forbidden")
    assert answer.one("X-VMGate-Reason") == "customer_blocked"
    assert answer.all("Contact") == []


def test_prepaid_customer_with_zero_balance_gets_402(edge, carrier, sip_dir):
    Customer.objects.filter(pk=carrier.customer.pk).update(balance=Decimal("0"))
    answer = call(edge, sip_dir, TECH + "37412345").answer
    assert (answer.code, answer.reason_phrase) == (402, "Payment Required")
    assert answer.one("X-VMGate-Reason") == "insufficient_balance"


@pytest.mark.parametrize("number", [TECH + "374A2345", "374%0A12", TECH + "37%2212"])
def test_number_with_a_letter_or_control_character_gets_484(edge, carrier, sip_dir, number):
    answer = call(edge, sip_dir, number).answer
    assert (answer.code, answer.reason_phrase) == (484, "Address Incomplete")
    assert answer.one("X-VMGate-Reason") == "invalid_number"


def test_escaped_hash_in_the_number_is_decoded(edge, tenant, sip_dir):
    customer = CustomerFactory(tenant=tenant)
    trunk = TrunkFactory(customer=customer, tenant=tenant, tech_prefix="#77")
    TrunkNetworkFactory(trunk=trunk, network="127.0.0.0/30")
    rule = RoutingRuleFactory(tenant=tenant, code="374")
    RoutingTargetFactory(rule=rule, client__sip_uri="sip:10.1.1.1:5060")
    DialpeerFactory(trunk=trunk, rule=rule)
    answer = call(edge, sip_dir, "%2377374555").answer
    assert answer.code == 302
    assert contacts(answer) == [("sip:374555@10.1.1.1:5060", 1.0)]


def test_rule_whose_clients_are_all_off_gets_503(edge, carrier, sip_dir):
    VMGateClient.objects.filter(pk__in=[carrier.gw1.pk, carrier.gw2.pk]).update(
        status=VMGateClient.OFF
    )
    answer = call(edge, sip_dir, TECH + "37412345").answer
    assert (answer.code, answer.reason_phrase) == (503, "Service Unavailable")
    assert answer.one("X-VMGate-Reason") == "no_target"
    # the other rule still routes
    assert call(edge, sip_dir, TECH + "3912345").answer.code == 302


def test_unauthorized_source_gets_no_reply_at_all(edge, carrier, sip_dir):
    edge.wait_authorized("127.0.0.1")  # the networks are loaded
    for scenario, number in (("invite_unanswered.xml", TECH + "37412345"), ("options.xml", "0")):
        run = sipp(
            edge.port, scenario, sip_dir, number=number, source_ip="127.0.0.2", recv_timeout_ms=2500
        )
        assert run.sent and run.sent[0].start_line.startswith(("INVITE", "OPTIONS"))
        assert run.received == [], [m.start_line for m in run.received]
    # the same INVITE from the authorized address is answered
    assert call(edge, sip_dir, TECH + "37412345").answer.code == 302
    # and the silent scenario does fail when an answer comes (it can tell the difference)
    loud = sipp(edge.port, "invite_unanswered.xml", sip_dir, number=TECH + "37412345")
    assert loud.returncode != 0
    assert [m.code for m in loud.answers] == [302]


def test_options_from_an_authorized_source_gets_200_and_other_methods_405(edge, carrier, sip_dir):
    edge.wait_authorized()
    run = sipp(edge.port, "options.xml", sip_dir)
    assert run.returncode == 0, run.output
    assert [(m.code, m.reason_phrase) for m in run.answers] == [(200, "OK")]

    run = sipp(edge.port, "message.xml", sip_dir, number=TECH + "37412345")
    assert run.returncode == 0, run.output
    answer = run.answer
    assert (answer.code, answer.reason_phrase) == (405, "Method Not Allowed")
    assert answer.one("Allow") == "INVITE, ACK, CANCEL, OPTIONS"


def test_malformed_invite_gets_kamailios_own_400(edge, carrier, sip_dir):
    edge.wait_authorized()
    run = sipp(edge.port, "invite_malformed.xml", sip_dir, number=TECH + "37412345")
    assert run.returncode == 0, run.output
    answer = run.answer
    assert (answer.code, answer.reason_phrase) == (400, "Expires value is illegal")
    assert answer.all("Contact") == [] and answer.all("X-VMGate-Reason") == []


def test_cancel_matching_an_answered_invite_gets_200_and_a_stray_cancel_481(edge, carrier, sip_dir):
    edge.wait_authorized()
    run = sipp(edge.port, "invite_cancel.xml", sip_dir, number=TECH + "37412345")
    assert run.returncode == 0, run.output
    assert [(m.code, m.one("CSeq")) for m in run.answers] == [
        (302, "1 INVITE"),
        (200, "1 CANCEL"),
        (481, "2 CANCEL"),
    ]


def test_route_api_stopped_gets_503_at_once(start_edge, carrier, sip_dir, tenant):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    # (the tenant cannot be asked from a dead API: given)
    edge = start_edge(api_url=dead, tenant_id=tenant.pk)
    run = call(edge, sip_dir, TECH + "37412345")
    answer = run.answer
    assert (answer.code, answer.reason_phrase) == (503, "Service Unavailable")
    assert answer.at - run.sent[0].at < 1.0


def test_route_api_hanging_gets_503_within_the_timeout(start_edge, carrier, sip_dir):
    from django.db import connection

    from tests.sip.conftest import database_url
    from tests.sip.edge import RouteService

    hung = RouteService(database_url(connection.settings_dict), sip_dir)
    try:
        edge = start_edge(api_url=hung.url)
        assert call(edge, sip_dir, TECH + "37412345").answer.code == 302
        hung.freeze()
        run = call(edge, sip_dir, TECH + "37412345")
        answer = run.answer
        assert (answer.code, answer.reason_phrase) == (503, "Service Unavailable")
        waited = answer.at - run.sent[0].at
        # --api-timeout 1 s: ndb_redis's command times out after 0.5 s, then its one new
        # connection's PING after 0.5 s more
        assert 0.9 <= waited < 1.5, waited
        # the INVITE retransmitted meanwhile did not make a second answer
        assert len(run.answers) == 1
    finally:
        hung.stop()


def api(route_app, token, method, path, body=None):
    req = urllib.request.Request(
        route_app.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def answer_within(edge, sip_dir, number, code, seconds):
    """Call until the answer has ``code``; fail if that takes longer than ``seconds``."""
    started = time.monotonic()
    codes = []
    while True:
        answer = call(edge, sip_dir, number).answer
        codes.append(answer.code)
        if answer.code == code:
            return answer
        assert time.monotonic() - started < seconds, codes


def test_dialpeer_deactivated_through_the_api_changes_the_answer_within_1s(
    edge, carrier, sip_dir, route_app, api_token
):
    assert call(edge, sip_dir, TECH + "37412345").answer.code == 302

    status, _ = api(
        route_app,
        api_token,
        "PATCH",
        f"/api/v1/dialpeers/{carrier.dp_am.pk}/",
        {"is_active": False},
    )
    assert status == 200
    answer = answer_within(edge, sip_dir, TECH + "37412345", 404, seconds=1.0)
    assert answer.one("X-VMGate-Reason") == "no_route"


def test_short_load_is_all_answered_with_302(start_edge, carrier, sip_dir):
    edge = start_edge(children=8)
    edge.wait_authorized()
    run = load_302(edge.port, sip_dir, TECH + "37412345", 250, 50)
    assert run.returncode == 0, run.output
    assert run.stats["SuccessfulCall(C)"] == "250", run.stats
    assert run.stats["FailedCall(C)"] == "0", run.stats


def test_flood_from_one_source_is_cut_off(start_edge, carrier, sip_dir):
    edge = start_edge(pike_density=5, pike_unit=2)
    edge.wait_authorized()  # (its probe counts for pike too: one of the 5)
    run = sipp(edge.port, "options.xml", sip_dir, calls=60, rate=200, recv_timeout_ms=1500)
    answered = len([m for m in run.answers if m.code == 200])
    assert 0 < answered < 40, (answered, run.stats)
