"""VMGATE_ROUTE_SERVICE (routing.engine.forward): the app passes route lookups to the host's
route service and never looks one up itself. (Against a running service: tests/sip.)"""

import io
import json
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler

from routing.engine import index
from routing.engine.forward import parse_service_url
from routing.engine.http import FastRouteMiddleware
from tests.factories import build_route_world
from vmgate.models import APIToken

pytestmark = pytest.mark.django_db


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8701",
        "http://127.0.0.1",
        "http://127.0.0.1:8701/api/v1/route/",
        "127.0.0.1:8701",
        "http://:8701",
        "http://127.0.0.1:99999",
    ],
)
def test_only_the_services_http_address_is_taken(url):
    with pytest.raises(ImproperlyConfigured):
        parse_service_url(url)


def test_an_address_is_taken():
    assert parse_service_url("http://127.0.0.1:8701") == ("127.0.0.1", 8701)
    assert parse_service_url("http://localhost:8701/") == ("localhost", 8701)


def test_without_the_service_a_lookup_is_a_503_and_no_index_is_built(tenant, operator):
    build_route_world(tenant)
    index.reset()
    key = APIToken.issue(operator, "t")[1]
    app = FastRouteMiddleware(WSGIHandler(), f"http://127.0.0.1:{closed_port()}")
    body = json.dumps({"called_number": "9937412345678", "source_ip": "203.0.113.10"}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/route/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Token {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    started = []
    out = b"".join(app(environ, lambda status, headers: started.append((status, headers))))
    assert started[0][0] == "503 Service Unavailable"
    assert json.loads(out) == {"detail": "The route service is unavailable."}
    assert list(index.all_indexes()) == []
