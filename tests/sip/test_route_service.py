"""The route service (issue 16): one process per host holding the routing index, answering
the SIP edge over kept-alive connections — the same answers as the app, edits seen within a
second, 503 (never a stall) while it starts or after it died."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialpeers.models import Dialpeer
from routing.engine.service import RouteService
from tests.factories import MembershipFactory
from tests.sip.conftest import TECH, database_url
from tests.sip.edge import RouteService as RouteServiceProcess
from tests.sip.edge import load_302, sipp

pytestmark = [pytest.mark.sip, pytest.mark.django_db(transaction=True)]

ROUTE = "/api/v1/route/"


def post(conn, body, token, path=ROUTE + "?format=rtjson", auth=None):
    """POST on a kept-alive http.client connection; (status, content type, body)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request(
        "POST",
        path,
        body=raw,
        headers={
            "Content-Type": "application/json",
            "Authorization": auth or f"Token {token}",
        },
    )
    resp = conn.getresponse()
    return resp.status, resp.getheader("Content-Type"), resp.read()


def without_time(answer):
    """The answer with the decision's "at" (now, to the microsecond) taken out."""
    status, content_type, body = answer
    if status == 200 and b'"at":"' in body:
        start = body.index(b'"at":"')
        body = body[:start] + body[body.index(b'"', start + 6) + 2 :]
    return status, content_type, body


def connect(url):
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=5)


def test_the_edge_routes_through_the_route_service(route_service, start_edge, carrier, sip_dir):
    edge = start_edge(api_url=route_service.service.url)
    edge.wait_authorized()
    answers = []
    for _ in range(3):  # the same kept-alive connection of the edge's workers, again and again
        run = sipp(edge.port, "invite.xml", sip_dir, number=TECH + "37412345")
        answers.append(run.answer)
    for answer in answers:
        assert (answer.code, answer.reason_phrase) == (302, "Moved Temporarily")
        assert [c.split(">")[0] for c in answer.all("Contact")] == [
            "<sip:37412345@10.8.0.12:5060",
            "<sip:37412345@10.8.0.13:5070",
        ]
        assert answer.one("X-VMGate-Dialpeer") == str(carrier.dp_am.pk)


def test_the_service_answers_what_the_app_answers(route_service, route_app, api_token, carrier):
    """The same requests to gunicorn and to the service: the same status and bytes, refusals
    (DRF's field errors) included; the service's connection stays open throughout."""
    other = MembershipFactory(role="operator").tenant
    requests = [
        ({"called_number": TECH + "37412345", "source_ip": "127.0.0.1"}, None, None),
        ({"called_number": TECH + "3912345", "trunk": carrier.trunk.pk}, None, ROUTE),
        (
            {"called_number": TECH + "37412345", "trunk": carrier.trunk.pk, "explain": True},
            None,
            ROUTE,
        ),
        ({"called_number": "4412345", "source_ip": "192.0.2.1"}, None, None),
        ({"called_number": "1" * 65, "source_ip": "127.0.0.1"}, None, None),
        ({"called_number": "374", "source_ip": "127.0.0.1", "trunk": 1}, None, None),
        (b'{"called_number": ', None, None),
        ({"called_number": "374", "source_ip": "127.0.0.1"}, "Token wrong-token-123", None),
        (
            {"called_number": TECH + "37412345", "source_ip": "127.0.0.1"},
            "Basic " + base64.b64encode(b"edge:" + api_token.encode()).decode(),
            None,
        ),
        ({"called_number": "374", "trunk": other.pk}, None, None),
    ]
    app, service = connect(route_app.url), connect(route_service.service.url)
    kept = None
    for body, auth, path in requests:
        path = path or ROUTE + "?format=rtjson"
        expected = without_time(post(app, body, api_token, path, auth))
        app.close()  # gunicorn's sync workers close it anyway
        got = without_time(post(service, body, api_token, path, auth))
        assert got == expected, body
        kept = kept or service.sock
        assert service.sock is kept, "the service closed a kept-alive connection"
    statuses = [
        post(service, b, api_token, p or ROUTE + "?format=rtjson", a)[0] for b, a, p in requests
    ]
    assert statuses == [200, 200, 200, 200, 400, 400, 400, 401, 401, 400]


def test_app_workers_pass_route_lookups_to_the_service(route_service, api_token, carrier, sip_dir):
    """VMGATE_ROUTE_SERVICE: gunicorn's workers answer every route lookup with the service's
    answer (the same bytes, refusals included) and look nothing up themselves: with the
    service dead they answer 503, not a decision of their own."""
    from tests.sip.edge import Gunicorn

    app = Gunicorn(
        database_url_of_test_db(),
        sip_dir,
        workers=1,
        env={"VMGATE_ROUTE_SERVICE": route_service.service.url},
    )
    try:
        requests = [
            ({"called_number": TECH + "37412345", "source_ip": "127.0.0.1"}, ROUTE),
            (
                {"called_number": TECH + "37412345", "source_ip": "127.0.0.1"},
                ROUTE + "?format=edge",
            ),
            (
                {"called_number": TECH + "37412345", "trunk": carrier.trunk.pk, "explain": True},
                ROUTE,
            ),
            ({"called_number": "1" * 65, "source_ip": "127.0.0.1"}, ROUTE),
            (b'{"called_number": ', ROUTE),
        ]
        for body, path in requests:
            direct = without_time(post(connect(route_service.service.url), body, api_token, path))
            passed = without_time(post(connect(app.url), body, api_token, path))
            assert passed == direct, (body, path)
        route_service.service.kill()
        status, _, body = post(
            connect(app.url),
            {"called_number": TECH + "37412345", "source_ip": "127.0.0.1"},
            api_token,
        )
        assert status == 503 and b"route service" in body
    finally:
        app.stop()
        if route_service.service.proc.poll() is not None:
            route_service.restart()


def route_of(conn, token, number=TECH + "37412345"):
    status, _, body = post(conn, {"called_number": number, "source_ip": "127.0.0.1"}, token, ROUTE)
    assert status == 200, body
    return json.loads(body)


def wait_for(conn, token, predicate, timeout=1.0):
    """Seconds until the service's decision satisfies ``predicate`` (fails after timeout)."""
    started = time.monotonic()
    while True:
        decision = route_of(conn, token)
        if predicate(decision):
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, decision
        time.sleep(0.02)


def test_edits_from_the_ui_the_api_and_psql_reach_the_service_within_a_second(
    route_service, route_app, api_token, carrier, sip_operator
):
    conn = connect(route_service.service.url)
    assert route_of(conn, api_token)["dialpeer"]["id"] == carrier.dp_am.pk
    first = lambda d: d["targets"][0]["client"]["name"]  # noqa: E731

    # the UI: the dialpeers list's bulk action deactivates the dialpeer
    browser = Client()
    browser.force_login(sip_operator)
    response = browser.post(
        reverse("dialpeers:dialpeer_bulk"), {"action": "deactivate", "pk": [carrier.dp_am.pk]}
    )
    assert response.status_code in (200, 302)
    assert not Dialpeer.objects.get(pk=carrier.dp_am.pk).is_active
    waited_ui = wait_for(conn, api_token, lambda d: d["reason"] == "no_route")
    Dialpeer.objects.filter(pk=carrier.dp_am.pk).update(is_active=True)
    wait_for(conn, api_token, lambda d: d["outcome"] == "routed")
    assert first(route_of(conn, api_token)) == "gw-am-1"

    # the API (through gunicorn): the least loaded client takes calls
    api = connect(route_app.url)
    api.request(
        "PATCH",
        f"/api/v1/clients/{carrier.gw1.pk}/",
        body=json.dumps({"active_calls": 9}),
        headers={"Content-Type": "application/json", "Authorization": f"Token {api_token}"},
    )
    assert api.getresponse().status == 200
    waited_api = wait_for(conn, api_token, lambda d: first(d) == "gw-am-2")

    # psql, behind the app's back
    subprocess.run(
        [
            "psql",
            database_url_of_test_db(),
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            f"UPDATE routing_vmgateclient SET active_calls = 0 WHERE id = {carrier.gw1.pk}",
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    waited_psql = wait_for(conn, api_token, lambda d: first(d) == "gw-am-1")
    assert max(waited_ui, waited_api, waited_psql) < 1.0


def database_url_of_test_db():
    return database_url(connection.settings_dict)


def test_a_dead_route_service_is_answered_503_until_it_is_back(
    route_service, start_edge, carrier, sip_dir, api_token
):
    edge = start_edge(api_url=route_service.service.url)
    edge.wait_authorized()
    assert sipp(edge.port, "invite.xml", sip_dir, number=TECH + "37412345").answer.code == 302
    route_service.service.kill()
    started = time.monotonic()
    answer = sipp(edge.port, "invite.xml", sip_dir, number=TECH + "37412345").answer
    assert answer.code == 503 and time.monotonic() - started < 2.0
    service = route_service.restart(wait=False)
    service.wait_ready()
    assert sipp(edge.port, "invite.xml", sip_dir, number=TECH + "37412345").answer.code == 302


def test_a_restart_beside_the_running_service_loses_no_call(
    route_service, start_edge, carrier, sip_dir
):
    """SO_REUSEPORT: the new service listens once ready, then the old one stops; the edge's
    kept-alive connections move over while calls keep coming (600 INVITEs in 10 s)."""
    edge = start_edge(api_url=route_service.service.url)
    edge.wait_authorized()
    old = route_service.service
    runs = []
    load = threading.Thread(
        target=lambda: runs.append(load_302(edge.port, sip_dir, TECH + "37412345", 600, 60))
    )
    load.start()
    time.sleep(1.5)
    new = RouteServiceProcess(database_url_of_test_db(), sip_dir, port=old.port)
    route_service.service = new
    old.stop()  # SIGTERM, and wait for it to end
    assert old.proc.returncode is not None
    load.join(60)
    stats = runs[0].stats
    assert (stats.get("SuccessfulCall(C)"), stats.get("FailedCall(C)")) == ("600", "0"), runs[
        0
    ].output[-2000:]
    assert new.ready_status() == 200


def test_the_service_builds_then_answers_ready_and_nothing_but_the_edges_paths(tenant):
    service = RouteService(app=None, tenant_ids=[tenant.pk])
    service.build()
    assert service.ready.is_set() and service.ready_after < 5
    status, _, body = service.answer("GET", "/ready", [], b"")
    assert status == 200 and body.startswith(b"ready after ")
    assert service.answer("GET", "/admin/", [], b"")[0] == 404
    assert service.answer("POST", "/api/v1/customers/", [], b"{}")[0] == 404


def test_unknown_tenant_slugs_are_refused_before_anything_starts(tenant, tmp_path):
    for command in (["route_service"], ["route_snapshot", "--dir", str(tmp_path)]):
        with pytest.raises(CommandError) as refused:
            call_command(*command, "--tenant", tenant.slug, "--tenant", "no-such-tenant")
        assert refused.value.returncode == 2 and "no-such-tenant" in str(refused.value)


RAW_CASES = [
    (b"garbage\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nContent-Length: 1_0\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST /api/v1/route/ HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", 413),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /ready HTTP/2.0\r\n\r\n", 400),
    (b"GET /ready HTTP/1.1\r\n bad-continuation\r\n\r\n", 400),
]


@pytest.mark.parametrize("raw,status", RAW_CASES)
def test_malformed_requests_get_a_clear_status_and_the_service_lives_on(route_service, raw, status):
    with socket.create_connection(("127.0.0.1", route_service.service.port), timeout=5) as sock:
        sock.sendall(raw)
        reply = sock.recv(65536)
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()), reply[:200]
    assert route_service.service.ready_status() == 200


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    head=st.binary(max_size=300).filter(lambda b: b"\r\n\r\n" not in b),
    body=st.binary(max_size=64),
)
def test_no_request_head_breaks_the_service(route_service, head, body):
    """Fuzzed: any head, any body: a status line (a RESP reply if it starts with "*") or
    nothing yet, never a server error, never a dead service."""
    with socket.create_connection(("127.0.0.1", route_service.service.port), timeout=5) as sock:
        sock.sendall(head + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    if head.startswith(b"*"):
        assert reply == b"" or reply[:1] in (b"+", b"-", b"$"), reply[:100]
        assert b"-ERR internal" not in reply, reply[:300]
    else:
        assert reply == b"" or reply.startswith(b"HTTP/1.1 "), reply[:100]
        assert not reply.startswith(b"HTTP/1.1 5"), reply[:300]
    assert route_service.service.ready_status() == 200


def test_one_port_speaks_resp_to_the_edge_and_http_to_everyone_else(
    route_service, api_token, carrier
):
    """A connection whose first byte is "*" is RESP (routing.engine.resp): the edge's ROUTE
    gets the bytes the HTTP API gives in ?format=edge, commands pipelined in one packet get
    their answers in order, and a malformed frame is answered and closes only that
    connection."""
    number = TECH + "37412345"
    status, _, http_answer = post(
        connect(route_service.service.url),
        {"called_number": number, "source_ip": "127.0.0.1"},
        api_token,
        ROUTE + "?format=edge",
    )
    assert status == 200 and http_answer.startswith(b"302:routed:")
    route = f"ROUTE {api_token} {number} 127.0.0.1".split()
    wanted = b"+PONG\r\n" + b"$%d\r\n%s\r\n" % (len(http_answer), http_answer)
    with socket.create_connection(("127.0.0.1", route_service.service.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n" + resp_frame(*route))
        reply = b""
        while len(reply) < len(wanted):
            chunk = sock.recv(65536)
            assert chunk, reply
            reply += chunk
        assert reply == wanted
        sock.sendall(b"*1\r\n:1\r\n")
        assert sock.recv(65536).startswith(b"-ERR protocol error")
        assert sock.recv(65536) == b""  # closed
    assert route_service.service.ready_status() == 200


def resp_frame(*args):
    raw = [a.encode() for a in args]
    return b"*%d\r\n" % len(raw) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in raw)


def test_two_requests_in_one_packet_get_two_answers_in_order(route_service):
    with socket.create_connection(("127.0.0.1", route_service.service.port), timeout=5) as sock:
        sock.sendall(b"GET /ready HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\n")
        reply = b""
        while reply.count(b"HTTP/1.1 ") < 2:
            chunk = sock.recv(65536)
            assert chunk, reply
            reply += chunk
    assert reply.index(b"HTTP/1.1 200") < reply.index(b"HTTP/1.1 404")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="snapshots keep a PostgreSQL transaction id"
)
def test_a_restart_starts_from_the_snapshot_and_catches_up(carrier, sip_dir, api_token, tmp_path):
    """With --snapshot-dir the service writes the tenant's rows after its first build; the
    next start builds from them (no million-row read), then applies what changed since."""
    url = database_url_of_test_db()
    first = RouteServiceProcess(url, sip_dir, snapshot_dir=tmp_path)
    try:
        assert "; 0 index(es) from snapshots" in first.ready_answer()[1]
        path = tmp_path / f"tenant-{carrier.customer.tenant_id}.routes"
        deadline = time.monotonic() + 30
        while not path.exists():
            assert time.monotonic() < deadline, "no snapshot written"
            time.sleep(0.1)
    finally:
        first.stop()
    carrier.gw1.active_calls = 7  # after the snapshot: the feed must bring it
    carrier.gw1.save()
    second = RouteServiceProcess(url, sip_dir, snapshot_dir=tmp_path)
    try:
        answer = second.ready_answer()[1]
        assert "index(es) from snapshots" in answer and "; 0 index" not in answer, answer
        decision = route_of(connect(second.url), api_token)
        assert decision["targets"][0]["client"]["name"] == "gw-am-2"
    finally:
        second.stop()
