"""Token authentication, the API tokens page, create_api_token, sessions with CSRF."""

import base64
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer
from tests.factories import CustomerFactory, UserFactory
from vmgate.models import APIToken

pytestmark = pytest.mark.django_db


def test_only_a_hash_of_the_key_is_stored(operator):
    token, key = APIToken.issue(operator, "edge")
    stored = APIToken.objects.get(pk=token.pk)
    assert key not in {stored.key_hash, stored.key_prefix, stored.name}
    assert stored.key_hash == APIToken.hash_key(key)
    assert len(key) >= 40


def test_a_token_authenticates_as_its_user_and_tenant(operator, tenant):
    _, key = APIToken.issue(operator, "edge")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(reverse("api:me"))
    assert response.status_code == 200
    assert response.json() == {
        "username": "op-a",
        "tenant": "Tenant A",
        "tenant_id": tenant.pk,
        "role": "operator",
    }
    assert APIToken.objects.get(name="edge").last_used_at is not None


def test_a_valid_key_as_a_basic_password_is_not_a_login(operator, tenant):
    """The API takes ``Authorization: Token`` only (the SIP edge asks the route service in
    RESP, with the token in each command)."""
    _, key = APIToken.issue(operator, "edge")
    client = APIClient()
    credentials = base64.b64encode(f"any-name:{key}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert client.get(reverse("api:me")).status_code == 401


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token a b",
        "Bearer xyz",
        "Token " + "x" * 500,
        "Token abc\x00",
        "Basic",
        "Basic !!!not-base64",
        "Basic " + b64("no-colon"),
        "Basic " + b64("name:"),
        "Basic " + b64("name:wrong-key-1234"),
        "Basic " + base64.b64encode(b"name:\xff\xfe").decode(),
    ],
)
def test_malformed_or_unknown_credentials_are_401(anon_api, tenant, header):
    anon_api.credentials(HTTP_AUTHORIZATION=header)
    assert anon_api.get(reverse("api:customer-list")).status_code == 401


def test_a_revoked_token_stops_working(op_api, operator):
    assert op_api.get(reverse("api:me")).status_code == 200
    APIToken.objects.filter(user=operator).delete()
    assert op_api.get(reverse("api:me")).status_code == 401


def test_an_inactive_users_token_is_refused(op_api, operator):
    operator.is_active = False
    operator.save()
    assert op_api.get(reverse("api:me")).status_code == 401


def test_a_login_without_tenant_gets_403(db):
    user = UserFactory(username="lonely")
    _, key = APIToken.issue(user, "t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(reverse("api:customer-list")).status_code == 403


def test_role_is_read_at_request_time(op_api, operator, tenant):
    body = {"name": "X", "country": "AM"}
    operator.membership.role = "viewer"
    operator.membership.save()
    assert op_api.post(reverse("api:customer-list"), body).status_code == 403
    operator.membership.role = "operator"
    operator.membership.save()
    assert op_api.post(reverse("api:customer-list"), body).status_code == 201


def test_the_api_never_redirects_to_the_login_page(anon_api, tenant):
    response = anon_api.get(reverse("api:customer-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# sessions ----------------------------------------------------------------------------------


def test_session_login_works_and_writes_need_csrf(operator, tenant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.get(reverse("api:customer-list")).status_code == 200
    body = {"name": "Via session", "country": "AM"}
    refused = client.post(reverse("api:customer-list"), body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get(reverse("vmgate:apitoken_list"))  # a page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    ok = client.post(reverse("api:customer-list"), body, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 201
    assert Customer.objects.filter(tenant=tenant, name="Via session").exists()


def test_a_viewer_session_cannot_write(viewer, tenant):
    client = APIClient()
    client.force_login(viewer)
    assert client.get(reverse("api:customer-list")).status_code == 200
    customer = CustomerFactory(tenant=tenant)
    url = reverse("api:customer-detail", args=[customer.pk])
    assert client.patch(url, {"status": "blocked"}, format="json").status_code == 403
    customer.refresh_from_db()
    assert customer.status == "active"


# the page ----------------------------------------------------------------------------------


def test_tokens_page_needs_login(client):
    response = client.get(reverse("vmgate:apitoken_list"))
    assert response.status_code == 302


def test_operator_creates_a_token_sees_the_key_once_and_it_works(op_client, operator):
    response = op_client.post(reverse("vmgate:apitoken_add"), {"name": "SIP edge"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key in response.content.decode()
    token = APIToken.objects.get(user=operator, name="SIP edge")
    assert token.key_hash == APIToken.hash_key(key)
    listing = op_client.get(reverse("vmgate:apitoken_list")).content.decode()
    assert "SIP edge" in listing and key not in listing and token.key_prefix in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:me")).status_code == 200


def test_token_names_are_unique_per_user(op_client, operator):
    APIToken.issue(operator, "edge")
    response = op_client.post(reverse("vmgate:apitoken_add"), {"name": "edge"})
    assert response.status_code == 400
    assert "already have a token" in response.content.decode()
    assert APIToken.objects.filter(user=operator).count() == 1


def test_operator_revokes_own_token_but_not_someone_elses(op_client, operator, other_operator):
    mine, _ = APIToken.issue(operator, "mine")
    theirs, _ = APIToken.issue(other_operator, "theirs")
    response = op_client.post(reverse("vmgate:apitoken_delete", args=[theirs.pk]))
    assert response.status_code == 404
    assert APIToken.objects.filter(pk=theirs.pk).exists()
    response = op_client.post(reverse("vmgate:apitoken_delete", args=[mine.pk]))
    assert response.status_code == 302
    assert not APIToken.objects.filter(pk=mine.pk).exists()


def test_a_viewer_sees_the_page_but_cannot_create_tokens(viewer_client, viewer):
    page = viewer_client.get(reverse("vmgate:apitoken_list"))
    assert page.status_code == 200
    assert "Create token" not in page.content.decode()
    response = viewer_client.post(reverse("vmgate:apitoken_add"), {"name": "x"})
    assert response.status_code == 403
    assert not APIToken.objects.filter(user=viewer).exists()


def test_the_sidebar_links_the_tokens_page(op_client):
    body = op_client.get(reverse("home")).content.decode()
    assert reverse("vmgate:apitoken_list") in body


# the command -------------------------------------------------------------------------------


def test_create_api_token_prints_the_key_alone_on_its_last_line(operator):
    out = io.StringIO()
    call_command("create_api_token", "op-a", "--name", "edge", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip().splitlines()[-1]
    assert APIToken.objects.get(user=operator, name="edge").key_hash == APIToken.hash_key(key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get(reverse("api:me")).json()
    assert me["role"] == "operator"
    # the SIP edge's render.py reads its tenant (its group of authorized sources) here
    assert me["tenant_id"] == operator.membership.tenant_id


def test_create_api_token_names_tokens_itself_and_refuses_unknown_users(operator):
    call_command("create_api_token", "op-a", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("create_api_token", "op-a", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(APIToken.objects.values_list("name", flat=True)) == ["cli-1", "cli-2"]
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=io.StringIO())


# schema and docs ---------------------------------------------------------------------------


def test_schema_is_openapi_3_and_lists_every_endpoint(client):
    response = client.get(reverse("api:schema") + "?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "customers",
        "trunks",
        "rate-plans",
        "rates",
        "networks",
        "clients",
        "routing-rules",
        "routing-targets",
        "dialpeers",
        "routing-checks",
    ]:
        assert f"/api/v1/{path}/" in schema["paths"]
        assert f"/api/v1/{path}/{{id}}/" in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_loads_its_assets_from_our_own_static_files(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "https://" not in body and "http://" not in body.replace("http://testserver", "")


def test_a_busy_token_is_resolved_once_a_second_not_once_a_request(op_api, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vmgate.api_auth import token_cache

    op_api.get(reverse("api:me"))
    with CaptureQueriesContext(connection) as cached:
        assert op_api.get(reverse("api:me")).status_code == 200
    token_cache.clear()
    with CaptureQueriesContext(connection) as fresh:
        assert op_api.get(reverse("api:me")).status_code == 200
    assert len(cached) == 0
    assert len(fresh) == 1
