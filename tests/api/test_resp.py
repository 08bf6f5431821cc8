"""The SIP edge's route lookup in RESP (routing.engine.resp): the same answer as
``POST /api/v1/route/?format=edge``, the same refusals, the same token check, and frames
that cannot be commands refused without a server error. (Kamailio asking it over a real
connection: tests/sip.)"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import TrunkNumberList
from routing.engine import resp
from routing.models import NumberList, NumberListEntry
from tests.factories import MembershipFactory, UserFactory, build_route_world
from vmgate.api_auth import token_cache
from vmgate.models import APIToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/route/?format=edge"
NUMBER = "9937412345678"  # tech prefix 99 + 37412345678


def frame(*args):
    """A RESP command as hiredis writes it: an array of bulk strings."""
    raw = [a if isinstance(a, bytes) else a.encode() for a in args]
    return b"*%d\r\n" % len(raw) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in raw)


def command(*args):
    taken = resp.take_command(frame(*args))
    assert taken is not None
    return resp.answer(taken[0])


@pytest.fixture
def world(tenant):
    return build_route_world(tenant)


@pytest.fixture
def key(operator_key):
    return operator_key


@pytest.mark.parametrize(
    "number, source_ip",
    [
        (NUMBER, "203.0.113.10"),  # routed
        ("994412345", "203.0.113.10"),  # no rule: a rejection with its SIP code
        (NUMBER, "198.51.100.1"),  # unknown source
        (NUMBER, "::ffff:203.0.113.10"),
    ],
)
def test_route_answers_the_apis_edge_text(op_api, world, key, number, source_ip):
    http = op_api.post(URL, {"called_number": number, "source_ip": source_ip})
    assert http.status_code == 200
    assert command("ROUTE", key, number, source_ip) == resp.bulk(http.content)


@pytest.mark.parametrize(
    "number, source_ip",
    [
        ("1" * 65, "203.0.113.10"),
        (NUMBER, "203.0.113"),
        (NUMBER, ""),
        ("", "203.0.113.10"),
        ("99\x0037", "203.0.113.10"),
    ],
)
def test_what_the_api_refuses_is_an_invalid_error_with_its_field_errors(
    op_api, world, key, number, source_ip
):
    http = op_api.post(URL, {"called_number": number, "source_ip": source_ip}, format="json")
    reply = command("ROUTE", key, number, source_ip)
    if http.status_code == 200:  # the API takes an empty number: a decision, not a refusal
        assert reply == resp.bulk(http.content)
        return
    assert http.status_code == 400
    assert reply.startswith(b"-INVALID ") and reply.endswith(b"\r\n")
    assert json.loads(reply[len(b"-INVALID ") : -2]) == http.json()


@pytest.mark.parametrize("calling", ["+37410555", "37499555", "", "anonymous", "1" * 25])
def test_the_calling_number_is_the_fifth_argument_as_the_apis_calling_number(
    op_api, world, key, tenant, calling
):
    """``ROUTE <token> <number> <source> <calling>`` answers what the API answers for the
    same ``calling_number`` (empty: not given), a barred caller included."""
    barred = NumberList.objects.create(tenant=tenant, name="Barred", applies_to="calling")
    NumberListEntry.objects.create(number_list=barred, value="37410", match="prefix")
    TrunkNumberList.objects.create(trunk=world["trunk"], number_list=barred)
    body = {"called_number": NUMBER, "source_ip": "203.0.113.10", "calling_number": calling}
    http = op_api.post(URL, body, format="json")
    reply = command("ROUTE", key, NUMBER, "203.0.113.10", calling)
    if http.status_code == 400:
        assert reply.startswith(b"-INVALID ") and "calling_number" in http.json()
        assert json.loads(reply[len(b"-INVALID ") : -2]) == http.json()
        return
    assert reply == resp.bulk(http.content)
    assert (b"number_blocked" in reply) == calling.lstrip("+").startswith("37410")


def test_a_route_with_six_arguments_is_an_error(world, key):
    reply = command("ROUTE", key, NUMBER, "203.0.113.10", "374", "extra")
    assert reply.startswith(b"-ERR ")


def test_a_number_that_is_not_utf8_is_invalid(world, key):
    assert command("ROUTE", key, b"99\xff37", "203.0.113.10").startswith(b"-INVALID ")


def test_only_a_tenants_token_may_ask(world, key, viewer):
    assert command("ROUTE", "not-a-token-123", NUMBER, "203.0.113.10").startswith(b"-NOAUTH ")
    assert command("ROUTE", "", NUMBER, "203.0.113.10").startswith(b"-NOAUTH ")
    assert command("ROUTE", b"\xff\xfe", NUMBER, "203.0.113.10").startswith(b"-NOAUTH ")
    assert command("ROUTE", key + " x", NUMBER, "203.0.113.10").startswith(b"-NOAUTH ")
    staff = UserFactory(username="no-tenant", is_staff=True)
    assert command("ROUTE", APIToken.issue(staff, "x")[1], NUMBER, "203.0.113.10").startswith(
        b"-NOAUTH "
    )
    # a viewer may look a route up, as in the API
    viewer_key = APIToken.issue(viewer, "viewer")[1]
    assert command("ROUTE", viewer_key, NUMBER, "203.0.113.10").startswith(b"$")


def test_a_revoked_token_stops_working(world, key):
    assert command("ROUTE", key, NUMBER, "203.0.113.10").startswith(b"$")
    APIToken.objects.all().delete()
    token_cache.clear()  # another process sees it within the cache's second
    assert command("ROUTE", key, NUMBER, "203.0.113.10").startswith(b"-NOAUTH ")


def test_each_tenant_routes_with_its_own_data(world, key, other_tenant):
    """Another tenant's token gets its own tenant's decision: here an unknown source."""
    other = MembershipFactory(tenant=other_tenant, role="operator").user
    other_key = APIToken.issue(other, "edge")[1]
    assert command("ROUTE", key, NUMBER, "203.0.113.10").startswith(b"$")
    reply = command("ROUTE", other_key, NUMBER, "203.0.113.10")
    assert reply.split(b"\r\n")[1] == b":unknown_source:::::\n\n"


def test_what_ndb_redis_sends_on_connecting_and_nothing_else():
    assert command("PING") == b"+PONG\r\n"
    assert command("SELECT", "0") == b"+OK\r\n"
    for args in (("GET", "x"), ("AUTH", "x"), ("ROUTE", "a", "b"), ("FLUSHALL",), ("ping", "x")):
        assert command(*args).startswith(b"-ERR unknown command")


def test_commands_are_taken_whole_and_in_order():
    two = frame("PING") + frame("SELECT", "1")
    first, used = resp.take_command(two)
    assert first == [b"PING"]
    assert resp.take_command(two[used:])[0] == [b"SELECT", b"1"]
    for cut in range(1, len(two[:used])):
        assert resp.take_command(two[:cut]) is None  # wait for the rest


@pytest.mark.parametrize(
    "raw",
    [
        b"*0\r\n",  # no command
        b"*x\r\n",
        b"*-1\r\n",
        b"*9\r\n",  # more arguments than any command has
        b"*1\r\n:1\r\n",  # an integer, not a bulk string
        b"*1\r\n$5\r\nPINGxx\r\n",  # the length does not match
        b"*1\r\n$99999\r\n",  # over the argument limit
        b"*" + b"1" * 40,  # a header that never ends
    ],
)
def test_a_frame_that_cannot_be_a_command_is_a_protocol_error(raw):
    with pytest.raises(resp.ProtocolError):
        resp.take_command(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_no_bytes_make_the_parser_fail_otherwise(raw):
    """Fuzzed: any bytes are a command, a wait for more, or a ProtocolError; nothing else."""
    try:
        taken = resp.take_command(b"*" + raw)
    except resp.ProtocolError:
        return
    if taken is not None:
        args, used = taken
        assert 0 < used <= len(raw) + 1 and all(isinstance(a, bytes) for a in args)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    number=st.binary(max_size=80),
    source_ip=st.binary(max_size=70),
    calling=st.binary(max_size=40),
)
def test_no_route_arguments_make_a_server_error(world, key, number, source_ip, calling):
    """Fuzzed: any number, source and calling number: an answer or INVALID, never an
    exception."""
    reply = command("ROUTE", key, number, source_ip, calling)
    assert reply.startswith((b"$", b"-INVALID ")), reply[:200]
