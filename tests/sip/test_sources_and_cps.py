"""What the edge learns from the database while it runs: a trunk network added through the API
is honoured within 5 s and a removed one silences the edge for that source again; a trunk's
max_cps is enforced per second (503 with Retry-After over it)."""

from __future__ import annotations

import time

import pytest

from tests.sip.conftest import TECH
from tests.sip.corpus import invite
from tests.sip.edge import exchange, sipp, status_code
from tests.sip.test_edge import api, call

pytestmark = [pytest.mark.sip, pytest.mark.django_db(transaction=True)]

NEW_SOURCE = "127.0.0.4"


def test_a_network_added_through_the_api_is_honoured_within_5s_and_removed_silences_it(
    edge, carrier, sip_dir, route_app, api_token
):
    edge.wait_authorized("127.0.0.1")
    assert not edge.answers_options(NEW_SOURCE)
    url = f"/api/v1/trunks/{carrier.trunk.pk}/"

    status, body = api(
        route_app, api_token, "PATCH", url, {"networks": ["127.0.0.1/32", f"{NEW_SOURCE}/32"]}
    )
    assert status == 200 and f"{NEW_SOURCE}/32" in body["networks"]
    took = edge.wait_authorized(NEW_SOURCE, timeout=5.0)
    assert took < 5.0
    assert call(edge, sip_dir, TECH + "37412345", source_ip=NEW_SOURCE).answer.code == 302

    status, body = api(route_app, api_token, "PATCH", url, {"networks": ["127.0.0.1/32"]})
    assert status == 200 and body["networks"] == ["127.0.0.1/32"]
    assert edge.wait_silent(NEW_SOURCE, timeout=5.0) < 5.0
    run = sipp(
        edge.port,
        "invite_unanswered.xml",
        sip_dir,
        number=TECH + "37412345",
        source_ip=NEW_SOURCE,
        recv_timeout_ms=1500,
    )
    assert run.sent and run.received == []
    # the trunk's remaining network still routes
    assert call(edge, sip_dir, TECH + "37412345").answer.code == 302


def test_at_twice_max_cps_about_half_the_calls_get_503_and_none_is_lost(
    start_edge, carrier, sip_dir, route_app, api_token
):
    edge = start_edge(children=8)
    edge.wait_authorized()
    # no limit yet: a burst of 15 is all routed
    burst = exchange(edge.port, [invite()] * 15, "127.0.0.1", 0.5)
    assert [status_code(a[-1]) for a in burst] == [302] * 15
    status, body = api(
        route_app, api_token, "PATCH", f"/api/v1/trunks/{carrier.trunk.pk}/", {"max_cps": 10}
    )
    assert status == 200 and body["max_cps"] == 10
    # the edge reloads the limits every 2 s: a burst of 15 in one second sees it within 5 s
    started = time.monotonic()
    while True:
        burst = exchange(edge.port, [invite()] * 15, "127.0.0.1", 0.5)
        if 503 in [status_code(a[-1]) for a in burst if a]:
            break
        assert time.monotonic() - started < 5.0, "max_cps not applied within 5 s"
    run = sipp(
        edge.port,
        "invite_302_or_503.xml",
        sip_dir,
        number=TECH + "37412345",
        calls=100,
        rate=20,
        timeout_s=40,
    )
    assert run.returncode == 0, run.output
    finals = {}
    for m in run.answers:
        finals.setdefault(m.one("Call-ID"), set()).add(m.code)
    # every call got exactly one final answer: 302 or 503, nothing lost, nothing else
    assert len(finals) == 100
    assert all(len(codes) == 1 for codes in finals.values())
    codes = [next(iter(c)) for c in finals.values()]
    over = codes.count(503)
    assert codes.count(302) + over == 100
    # 20 calls/s against 10/s: half, give or take where sipp's seconds fall on the edge's
    assert 35 <= over <= 55, over
    for m in run.answers:
        if m.code == 503:
            assert m.one("Retry-After") == "1"
            assert m.one("X-VMGate-Reason") == "max_cps"


def test_max_cps_is_validated_by_the_api(carrier, route_app, api_token):
    import urllib.error

    url = f"/api/v1/trunks/{carrier.trunk.pk}/"
    for bad in (0, -1, "ten", 1.5):
        with pytest.raises(urllib.error.HTTPError) as err:
            api(route_app, api_token, "PATCH", url, {"max_cps": bad})
        assert err.value.code == 400
    status, body = api(route_app, api_token, "PATCH", url, {"max_cps": None})
    assert status == 200 and body["max_cps"] is None
