"""The route lookup's WSGI fast path (routing.engine.http) answers the same bytes as the DRF
view for the plain requests it takes, and hands every other request to Django untouched."""

import base64
import io
import json
import re
import sys

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from routing.engine.http import FastRouteMiddleware
from routing.models import RoutingRule
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    TrunkFactory,
    UserFactory,
    build_route_world,
)
from vmgate.models import APIToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/route/"
NUMBER = "9937412345678"
PLAIN = {"called_number": NUMBER, "source_ip": "203.0.113.10"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the test's transaction must survive our requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(tenant):
    """The route tests' world with a priority rule (a fixed target order) and non-ASCII names
    (the JSON must be UTF-8 as DRF renders it)."""
    return build_route_world(
        tenant,
        plan_name="Retail · ünïcode",
        label="Armenia ▸ mobile",
        assignment=RoutingRule.PRIORITY,
    )


def key_for(user):
    return APIToken.issue(user, "tests")[1]


class Inner:
    """The Django application, counting the requests that reach it."""

    def __init__(self):
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


def call(app, body=b"", *, key=None, query="", method="POST", headers=None, ctype=None):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": URL,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json" if ctype is None else ctype,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if key:
        environ["HTTP_AUTHORIZATION"] = f"Token {key}"
    environ.update(headers or {})
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    try:
        answer["body"] = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer


def same_bytes(a, b):
    """Byte-equal but for the decision time (``"at"``: now, to the microsecond)."""
    at = re.compile(rb'"at":\s*"[^"]*"')
    return at.sub(b'"at":""', a) == at.sub(b'"at":""', b)


def both(body, **kwargs):
    """(fast path's answer, how many requests it passed on, plain Django's answer)."""
    inner = Inner()
    fast = call(FastRouteMiddleware(inner), body, **kwargs)
    plain = call(WSGIHandler(), body, **kwargs)
    return fast, inner.calls, plain


@pytest.mark.parametrize(
    "body, query",
    [
        ({"called_number": NUMBER, "source_ip": "203.0.113.10"}, ""),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10"}, "format=rtjson"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10"}, "format=json"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10", "explain": False}, ""),
        ({"called_number": "994412345", "source_ip": "203.0.113.10"}, "format=rtjson"),
        ({"called_number": "99374a", "source_ip": "203.0.113.10"}, ""),
        ({"called_number": "", "source_ip": "203.0.113.10"}, ""),
        ({"called_number": "8837412345", "source_ip": "203.0.113.10"}, ""),
        ({"called_number": NUMBER, "source_ip": "198.51.100.1"}, "format=rtjson"),
        ({"called_number": NUMBER, "source_ip": "203.0.113.10"}, "format=edge"),
        ({"called_number": "994412345", "source_ip": "203.0.113.10"}, "format=edge"),
        ({"called_number": NUMBER, "source_ip": "198.51.100.1"}, "format=edge"),
        ({"called_number": NUMBER, "source_ip": "::ffff:203.0.113.10"}, ""),
        ({"source_ip": "203.0.113.10", "called_number": "99374ü"}, ""),
    ],
)
def test_plain_lookups_are_answered_here_with_the_same_bytes_as_drf(operator, world, body, query):
    key = key_for(operator)
    fast, passed_on, plain = both(body, key=key, query=query)
    assert passed_on == 0, "the fast path should have answered"
    assert (fast["status"], plain["status"]) == (200, 200)
    assert same_bytes(fast["body"], plain["body"])
    for name in (
        "Content-Type",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Allow",
        "Cache-Control",
    ):
        assert fast["headers"][name] == plain["headers"][name], name
    assert fast["headers"]["Content-Length"] == str(len(fast["body"]))


def test_by_trunk_and_for_each_rejection_reason(operator, world):
    key = key_for(operator)
    trunk = world["trunk"]
    body = {"called_number": NUMBER, "trunk": trunk.pk}
    fast, passed_on, plain = both(body, key=key)
    assert passed_on == 0 and same_bytes(fast["body"], plain["body"])
    assert json.loads(fast["body"])["reason"] == "routed"
    world["customer"].status = "blocked"
    world["customer"].save()
    fast, passed_on, plain = both(body, key=key)
    assert passed_on == 0 and same_bytes(fast["body"], plain["body"])
    assert json.loads(fast["body"])["reason"] == "customer_blocked"


def test_basic_credentials_are_left_to_django_which_refuses_them(operator, world):
    """Only ``Authorization: Token`` is a login, here as in DRF: a valid key sent as a Basic
    password goes on to Django and gets its 401."""
    key = key_for(operator)
    basic = "Basic " + base64.b64encode(f"edge:{key}".encode()).decode()
    fast, passed_on, plain = both(
        PLAIN, headers={"HTTP_AUTHORIZATION": basic}, query="format=rtjson"
    )
    assert passed_on == 1 and fast["status"] == plain["status"] == 401


def test_a_viewer_token_may_look_up_here_too(viewer, world):
    fast, passed_on, plain = both(
        {"called_number": NUMBER, "source_ip": "203.0.113.10"}, key=key_for(viewer)
    )
    assert passed_on == 0 and same_bytes(fast["body"], plain["body"])


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "bad token",
        "session scheme",
        "no tenant",
        "inactive user",
        "explain",
        "at",
        "both ingresses",
        "bad ip",
        "not json",
        "NaN",
        "not utf-8",
        "a list",
        "number not a string",
        "other tenant's trunk",
        "missing trunk",
        "form body",
        "html accept",
        "indent accept",
        "browsable format",
        "other query",
        "too big",
        "GET",
        "disallowed host",
        "no host",
    ],
)
def test_everything_else_goes_to_drf_untouched(operator, world, other_tenant, case):
    """The fast path never answers these: Django/DRF does, with its own status and errors."""
    key = key_for(operator)
    body = {"called_number": NUMBER, "source_ip": "203.0.113.10"}
    kwargs = {"key": key}
    if case == "no token":
        kwargs["key"] = None
    elif case == "bad token":
        kwargs["key"] = "nope"
    elif case == "session scheme":
        kwargs = {"headers": {"HTTP_AUTHORIZATION": f"Bearer {key}"}}
    elif case == "no tenant":
        kwargs["key"] = key_for(UserFactory(username="lonely"))
    elif case == "inactive user":
        user = MembershipFactory(tenant=world["trunk"].tenant, role="operator").user
        kwargs["key"] = key_for(user)
        user.is_active = False
        user.save()
    elif case == "explain":
        body["explain"] = True
    elif case == "at":
        body["at"] = "2026-01-01T00:00:00Z"
    elif case == "both ingresses":
        body["trunk"] = world["trunk"].pk
    elif case == "bad ip":
        body["source_ip"] = "203.0.113.300"
    elif case == "not json":
        body = b"{called_number"
    elif case == "NaN":
        body = b'{"called_number": "99", "source_ip": "203.0.113.10", "x": NaN}'
    elif case == "not utf-8":
        body = b'{"called_number": "99\xff", "source_ip": "203.0.113.10"}'
    elif case == "a list":
        body = [body]
    elif case == "number not a string":
        body["called_number"] = 9937412345678
    elif case == "other tenant's trunk":
        customer = CustomerFactory(tenant=other_tenant)
        body = {"called_number": NUMBER, "trunk": TrunkFactory(customer=customer).pk}
    elif case == "missing trunk":
        body = {"called_number": NUMBER, "trunk": 10**9}
    elif case == "form body":
        kwargs["ctype"] = "application/x-www-form-urlencoded"
    elif case == "html accept":
        kwargs["headers"] = {"HTTP_ACCEPT": "text/html"}
    elif case == "indent accept":
        kwargs["headers"] = {"HTTP_ACCEPT": "application/json; indent=4"}
    elif case == "browsable format":
        kwargs["query"] = "format=api"
    elif case == "other query":
        kwargs["query"] = "format=rtjson&x=1"
    elif case == "too big":
        body["called_number"] = NUMBER + " " * 5000
    elif case == "GET":
        kwargs["method"] = "GET"
    elif case == "disallowed host":
        kwargs["headers"] = {"HTTP_HOST": "evil.example"}
    elif case == "no host":
        kwargs["headers"] = {"HTTP_HOST": ""}
    fast, passed_on, plain = both(body, **kwargs)
    assert passed_on == 1
    assert fast["status"] == plain["status"] != 500
    assert same_bytes(fast["body"], plain["body"])


def test_another_tenants_trunk_reads_like_a_missing_one(operator, world, other_tenant):
    key = key_for(operator)
    theirs = TrunkFactory(customer=CustomerFactory(tenant=other_tenant)).pk
    foreign = call(
        FastRouteMiddleware(WSGIHandler()), {"called_number": NUMBER, "trunk": theirs}, key=key
    )
    missing = call(
        FastRouteMiddleware(WSGIHandler()), {"called_number": NUMBER, "trunk": 10**9}, key=key
    )
    assert foreign["status"] == missing["status"] == 400
    assert foreign["body"] == missing["body"]


@pytest.mark.django_db(transaction=True)
def test_a_warm_lookup_runs_no_query_and_touches_the_token_once_a_minute(operator, world):
    token, key = APIToken.issue(operator, "edge")
    app = FastRouteMiddleware(Inner())
    assert call(app, PLAIN, key=key)["status"] == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert json.loads(call(app, PLAIN, key=key)["body"])["reason"] == "routed"
    assert len(queries) == 0
    assert app.app.calls == 0


def test_a_revoked_token_is_refused_at_once_in_this_process(operator, world):
    token, key = APIToken.issue(operator, "edge")
    app = FastRouteMiddleware(WSGIHandler())
    assert call(app, PLAIN, key=key)["status"] == 200
    token.delete()
    assert call(app, PLAIN, key=key)["status"] == 401


def test_other_paths_never_reach_the_fast_path(operator, world):
    inner = Inner()
    answer = call(FastRouteMiddleware(inner), b"", key=key_for(operator), method="GET")
    assert inner.calls == 1 and answer["status"] == 405


def test_gunicorn_serves_the_fast_path_for_the_edges_host(operator, world):
    """vmgate.wsgi (what gunicorn and runserver serve) is wrapped, and a lookup sent to
    127.0.0.1:<port> as the SIP edge sends it (an allowed host) is answered by it."""
    import vmgate.wsgi

    assert isinstance(vmgate.wsgi.application, FastRouteMiddleware)
    inner = Inner()
    answer = call(
        FastRouteMiddleware(inner),
        PLAIN,
        key=key_for(operator),
        query="format=rtjson",
        headers={"HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": "*/*"},
    )
    assert inner.calls == 0 and answer["status"] == 200
    assert json.loads(answer["body"])["routes"][0]["uri"] == "sip:37412345678@10.8.0.12:5060"
