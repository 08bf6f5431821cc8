"""API errors are JSON (and never cached); odd bodies are 400s; a database outage is a 503."""

import io
import json
import socket
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections, connection
from django.test import Client

from tests.api.conftest import token_client
from tests.factories import CustomerFactory, build_route_world
from vmgate.wsgi import application as wsgi_application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the test's transaction must survive WSGI requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


DEEP = b"[" * 2000 + b"]" * 2000  # 4,000 bytes, 2,000 levels


def wsgi_post(path, body, key, ctype="application/json"):
    """POST through the deployed WSGI application (route fast path included)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": ctype,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Token {key}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    chunks = wsgi_application(environ, start_response)
    try:
        answer["body"] = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer


@pytest.fixture
def op_api(operator):
    return token_client(operator)


@pytest.mark.parametrize("path", ["/api/v1/route/", "/api/v1/customers/", "/api/v1/dialpeers/"])
def test_deeply_nested_json_is_a_400_with_json_on_every_path(path, operator_key):
    answer = wsgi_post(path, DEEP, operator_key)
    assert answer["status"] == 400
    assert answer["headers"]["Content-Type"] == "application/json"
    assert "nested too deeply" in json.loads(answer["body"])["detail"]


def test_json_just_past_the_depth_limit_is_refused_and_at_it_is_parsed(operator_key):
    limit = settings.API_MAX_JSON_DEPTH
    over = wsgi_post("/api/v1/customers/", b"[" * (limit + 1) + b"]" * (limit + 1), operator_key)
    assert over["status"] == 400 and "nested too deeply" in over["body"].decode()
    at = wsgi_post("/api/v1/customers/", b"[" * limit + b"]" * limit, operator_key)
    assert at["status"] == 400  # a list is not a customer: DRF's field-level refusal
    assert "nested" not in at["body"].decode()


@pytest.mark.parametrize("path", ["/api/v1/route/", "/api/v1/customers/"])
def test_a_body_larger_than_the_limit_is_a_400_with_json(path, operator_key):
    body = b'{"name": "' + b"x" * settings.API_MAX_BODY_BYTES + b'"}'
    answer = wsgi_post(path, body, operator_key)
    assert answer["status"] == 400
    assert "too large" in json.loads(answer["body"])["detail"]


def test_an_unknown_api_url_is_a_json_404(op_api):
    response = op_api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    anonymous = Client().post("/api/v1/customers/99/nope/")
    assert anonymous.status_code == 404 and anonymous.json() == {"detail": "Not found."}


def test_a_wrong_method_is_a_json_405(op_api):
    response = op_api.put("/api/v1/customers/", {}, format="json")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert "not allowed" in response.json()["detail"]


@pytest.mark.urls("tests.security.urls_boom")
def test_an_unexpected_api_error_is_a_json_500():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error."}


def test_api_answers_are_never_cached_pages_may_be(op_api, op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    for response in (
        op_api.get("/api/v1/customers/"),
        op_api.get(f"/api/v1/customers/{customer.pk}/"),
        op_api.get("/api/v1/customers/999999/"),
        op_api.post("/api/v1/customers/", {}, format="json"),
    ):
        assert response["Cache-Control"] == "no-store", response.status_code
    assert "no-store" not in op_client.get("/customers/").get("Cache-Control", "")


def test_the_route_fast_path_answers_are_never_cached(tenant, operator_key):
    world = build_route_world(tenant)
    body = json.dumps({"called_number": "9937412345678", "trunk": world["trunk"].pk}).encode()
    answer = wsgi_post("/api/v1/route/", body, operator_key)
    assert answer["status"] == 200
    assert answer["headers"]["Cache-Control"] == "no-store"


# --------------------------------------------------------------------------- database down


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database_down():
    """Point the app's real database connection at nothing: PostgreSQL at a closed loopback
    port, SQLite at a file in a directory that does not exist. Restored afterwards."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    else:
        connection.settings_dict.update(NAME="/nonexistent-dir/vmgate.sqlite3")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def clients(transactional_db, operator):
    page = Client(raise_request_exception=False)
    page.force_login(operator)
    api = token_client(operator)
    api.raise_request_exception = False
    return page, api


def test_with_the_database_down_the_api_answers_503_json_with_retry_after(clients):
    _, api = clients
    with database_down():
        answers = [api.get("/api/v1/customers/"), api.post("/api/v1/customers/", {})]
    for response in answers:
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response["Retry-After"] == "30"
        assert "database is unavailable" in response.json()["detail"]
    assert api.get("/api/v1/customers/").status_code == 200  # back once it is back


def test_with_the_database_down_pages_answer_the_styled_503(clients):
    page, _ = clients
    with database_down():
        answers = {path: page.get(path) for path in ("/", "/customers/", "/dialpeers/")}
    for path, response in answers.items():
        assert response.status_code == 503, path
        assert response["Retry-After"] == "30"
        body = response.content.decode()
        assert 'data-testid="error-page"' in body and "temporarily unavailable" in body
    assert page.get("/customers/").status_code == 200
