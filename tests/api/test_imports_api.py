"""``POST /api/v1/imports/`` (SPEC §8 "API"): a multipart upload answered with the preview
as JSON, applied unless ``dry_run``; 400 with the preview when a row or the file has an
error (nothing written); 400 field errors for a request that cannot run; a write, so
viewers get 403; tenant-scoped (another tenant's plan or customer is "not found")."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer, Rate, Trunk
from routing.models import RoutingRule
from tests import factories as f
from tests.vmgate.test_import import csv_bytes
from vmgate.import_kinds import KINDS
from vmgate.imports import MAX_BYTES
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
SINCE = "2026-01-01T00:00:00+00:00"
CUSTOMERS = [
    ["name", "country", "billing_type"],
    ["Alpha", "AM", "prepaid"],
    ["Beta", "GE", "postpaid"],
]


def upload(client, kind, data, name="data.csv", **fields):
    body = {"kind": kind, "file": SimpleUploadedFile(name, data), **fields}
    return client.post(URL, body, format="multipart")


def xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_url_is_the_apis(op_api):
    assert reverse("api:imports") == URL


# --- apply and dry run ---------------------------------------------------------------------


def test_an_upload_applies_and_answers_the_preview(op_api, tenant, operator):
    response = upload(op_api, "customers", csv_bytes(CUSTOMERS), name="customers.csv")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["applied"] is True
    assert (data["kind"], data["mode"], data["file"]) == ("customers", "update", "customers.csv")
    assert data["counts"] == {"create": 2, "update": 0, "delete": 0, "unchanged": 0, "error": 0}
    assert data["errors"] == [] and data["errors_total"] == 0 and data["file_error"] is None
    created = data["changes"]["create"]
    assert [(r["line"], r["row"]) for r in created] == [(2, "Alpha"), (3, "Beta")]
    assert {"column": "country", "old": "", "new": "AM"} in created[0]["changes"]
    run = ImportRun.objects.get(tenant=tenant)
    assert data["run"] == run.pk
    assert run.user == operator and run.summary == "Imported customers.csv: 2 created"
    assert Customer.objects.filter(tenant=tenant).count() == 2
    again = upload(op_api, "customers", csv_bytes(CUSTOMERS)).json()
    assert again["counts"]["unchanged"] == 2 and again["counts"]["create"] == 0


def test_a_dry_run_answers_the_checks_that_would_change_and_writes_nothing(op_api, tenant):
    w = f.build_route_world(tenant)
    check = f.armenia_mobile_check(w)
    data = csv_bytes([["code", "trunk", "is_active"], ["374", "", "false"]])
    response = upload(op_api, "rules", data, dry_run="true")
    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["applied"] is False and preview["run"] is None
    assert preview["counts"]["update"] == 1
    [update] = preview["changes"]["update"]
    assert update["changes"] == [{"column": "is_active", "old": "true", "new": "false"}]
    [changed] = preview["checks"]
    assert (changed["id"], changed["name"]) == (check.pk, "Armenia mobile")
    assert changed["before"].startswith("routed via 374")
    assert changed["after"].lower().startswith("rejected")
    assert changed["passed_before"] is True and changed["passed_after"] is False
    assert RoutingRule.objects.get(pk=w["rule"].pk).is_active
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("value", ["false", "False", "0", "no"])
def test_dry_run_false_applies(op_api, tenant, value):
    response = upload(op_api, "customers", csv_bytes(CUSTOMERS), dry_run=value)
    assert response.status_code == 200 and response.json()["applied"] is True
    assert Customer.objects.filter(tenant=tenant).count() == 2


def test_rates_go_into_the_named_plan(op_api, tenant):
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    f.RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    f.RateFactory(rate_plan=plan, code="375", rate_per_min=Decimal("0.2"))
    deck = csv_bytes(
        [["code", "rate_per_min", "valid_since"], ["374", "0.15", SINCE], ["0093", "0.3", SINCE]]
    )
    response = upload(op_api, "rates", deck, rate_plan="Deck", mode="replace")
    assert response.status_code == 200, response.json()
    assert response.json()["counts"] == {
        "create": 1,
        "update": 1,
        "delete": 1,
        "unchanged": 0,
        "error": 0,
    }
    rates = dict(Rate.objects.filter(rate_plan=plan).values_list("code", "rate_per_min"))
    assert rates == {"374": Decimal("0.15"), "0093": Decimal("0.3")}


def test_an_xlsx_upload_imports_and_a_code_stored_as_a_number_is_an_error(op_api, tenant):
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    book = xlsx([["code", "rate_per_min", "valid_since"], ["0093", "0.3", SINCE]])
    response = upload(op_api, "rates", book, name="deck.xlsx", rate_plan="Deck")
    assert response.status_code == 200, response.json()
    assert response.json()["counts"]["create"] == 1
    assert Rate.objects.get(rate_plan=plan).code == "0093"  # leading zeros kept

    numeric = xlsx([["code", "rate_per_min", "valid_since"], [374, "0.3", SINCE]])
    response = upload(op_api, "rates", numeric, name="deck.xlsx", rate_plan="Deck")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["line"], error["column"]) == (2, "code")
    assert "stored as a number" in error["message"]
    assert Rate.objects.filter(rate_plan=plan).count() == 1


# --- 400 with the preview ----------------------------------------------------------------


def test_a_row_error_is_a_400_with_the_preview_and_writes_nothing(op_api, tenant):
    data = csv_bytes([*CUSTOMERS, ["Gamma", "XX", "prepaid"]])
    response = upload(op_api, "customers", data)
    assert response.status_code == 400
    preview = response.json()
    assert preview["applied"] is False and preview["run"] is None
    assert preview["counts"]["create"] == 2 and preview["counts"]["error"] == 1
    [error] = preview["errors"]
    assert (error["line"], error["column"]) == (4, "country")
    assert "Select a valid choice" in error["message"]  # the form's own message
    assert preview["errors_total"] == 1
    assert not Customer.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_file_error_is_a_400_with_the_preview(op_api, tenant):
    response = upload(op_api, "customers", b"name;colour\nAlpha;red\n")
    assert response.status_code == 400
    preview = response.json()
    assert preview["file_error"].startswith("Line 1 (header): unknown column(s) colour.")
    assert preview["errors_total"] == 1
    assert (
        upload(op_api, "customers", b"\xff\xfe\x00n")
        .json()["file_error"]
        .startswith("The file is not UTF-8 text")
    )


# --- 400 field errors --------------------------------------------------------------------


@pytest.fixture
def plans(tenant, other_tenant):
    f.RatePlanFactory(tenant=tenant, name="Deck")
    return f.RatePlanFactory(tenant=other_tenant, name="Theirs")


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"file": True}, "kind", "This field is required."),
        ({"kind": "nonsense", "file": True}, "kind", '"nonsense" is not a valid choice.'),
        ({"kind": "customers"}, "file", "No file was submitted."),
        ({"kind": "customers", "file": "text"}, "file", "The submitted data was not a file"),
        ({"kind": "customers", "file": True, "mode": "merge"}, "mode", "not a valid choice"),
        ({"kind": "customers", "file": True, "dry_run": "maybe"}, "dry_run", "true or false"),
        ({"kind": "rates", "file": True}, "rate_plan", "Rates go into a rate plan"),
        ({"kind": "rates", "file": True, "rate_plan": ""}, "rate_plan", "go into a rate plan"),
        ({"kind": "rates", "file": True, "rate_plan": "Nope"}, "rate_plan", "“Nope” not found"),
        ({"kind": "rates", "file": True, "rate_plan": "Theirs"}, "rate_plan", "not found"),
        ({"kind": "customers", "file": True, "rate_plan": "Deck"}, "rate_plan", "Only rates"),
    ],
)
def test_a_request_that_cannot_run_is_a_400_with_field_errors(op_api, plans, body, field, message):
    if body.get("file") is True:
        body = {**body, "file": SimpleUploadedFile("c.csv", csv_bytes(CUSTOMERS))}
    response = op_api.post(URL, body, format="multipart")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert not Customer.objects.exists() and not ImportRun.objects.exists()


def test_another_tenants_plan_reads_exactly_like_a_missing_one(op_api, plans):
    f.RateFactory(rate_plan=plans, code="374")
    deck = csv_bytes([["code", "rate_per_min", "valid_since"], ["375", "0.1", SINCE]])
    theirs = upload(op_api, "rates", deck, rate_plan="Theirs")
    missing = upload(op_api, "rates", deck, rate_plan="Nobody's")
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == {"rate_plan": ["Rate plan “Theirs” not found."]}
    assert missing.json() == {"rate_plan": ["Rate plan “Nobody's” not found."]}
    assert list(Rate.objects.filter(rate_plan=plans).values_list("code", flat=True)) == ["374"]


def test_an_empty_file_is_a_field_error(op_api):
    response = upload(op_api, "customers", b"")
    assert response.status_code == 400
    assert response.json() == {"file": ["The submitted file is empty."]}


def test_a_file_over_the_limit_is_a_field_error(op_api):
    response = upload(op_api, "customers", b"name\n" + b"x" * MAX_BYTES)
    assert response.status_code == 400
    [message] = response.json()["file"]
    assert message == "The file is 20.0 MB; the limit is 20 MB. Split it into smaller files."


def test_json_is_not_an_upload(op_api):
    response = op_api.post(URL, {"kind": "customers"}, format="json")
    assert response.status_code == 415


def test_only_post_is_allowed(op_api):
    assert op_api.get(URL).status_code == 405


# --- who may import ------------------------------------------------------------------------


def test_a_viewer_may_not_import(viewer_api, tenant):
    response = upload(viewer_api, "customers", csv_bytes(CUSTOMERS))
    assert response.status_code == 403
    assert response.json() == {"detail": "Viewers have read-only access."}
    assert not Customer.objects.exists()


def test_anonymous_and_bad_tokens_are_401(anon_api, tenant):
    assert upload(anon_api, "customers", csv_bytes(CUSTOMERS)).status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert upload(anon_api, "customers", csv_bytes(CUSTOMERS)).status_code == 401
    assert not Customer.objects.exists()


def test_a_session_import_needs_the_csrf_token(operator, tenant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator)
    refused = upload(client, "customers", csv_bytes(CUSTOMERS))
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert not Customer.objects.exists()
    client.get(reverse("vmgate:apitoken_list"))  # a page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    body = {"kind": "customers", "file": SimpleUploadedFile("c.csv", csv_bytes(CUSTOMERS))}
    ok = client.post(URL, body, format="multipart", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 200
    assert Customer.objects.filter(tenant=tenant).count() == 2


# --- tenancy -------------------------------------------------------------------------------


def test_another_tenants_customer_is_not_found(op_api, tenant, other_tenant):
    f.CustomerFactory(tenant=other_tenant, name="Theirs")
    data = csv_bytes([["customer", "name", "networks"], ["Theirs", "in", "192.0.2.1"]])
    response = upload(op_api, "trunks", data)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "column": "customer", "message": "Customer “Theirs” not found."}
    ]
    assert not Trunk.objects.exists()


def test_an_import_only_touches_its_own_tenant(op_api, tenant, other_tenant):
    f.CustomerFactory(tenant=other_tenant, name="Alpha", country="FR")
    response = upload(op_api, "customers", csv_bytes(CUSTOMERS), mode="replace")
    assert response.status_code == 200, response.json()
    assert response.json()["counts"]["create"] == 2  # their Alpha is not ours to update
    theirs = Customer.objects.get(tenant=other_tenant)
    assert (theirs.name, theirs.country.code) == ("Alpha", "FR")  # nor to delete


# --- schema --------------------------------------------------------------------------------


def test_the_schema_describes_the_upload(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"][URL]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    components = schema["components"]["schemas"]
    request = components["ImportRequest"]
    assert request["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": request["properties"]["file"]["description"],
    }
    assert sorted(request["required"]) == ["file", "kind"]
    assert components["ImportKindEnum"]["enum"] == list(KINDS)  # every kind, as registered
    assert components["ImportModeEnum"]["enum"] == ["add", "update", "replace"]
    assert components["KindEnum"]["enum"] == ["payment", "adjustment"]  # the entries' own
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ImportPreview"}
