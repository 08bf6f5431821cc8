"""The OpenAPI schema states the constraints the API enforces — ids ≥ 1, no NUL in any
string — and the API does enforce them (so the schema is accurate both ways)."""

import re

import pytest

from tests.api.conftest import token_client
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/v1/schema/?format=json").json()


def strings(node):
    if isinstance(node, dict):
        if node.get("type") == "string":
            yield node
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def test_every_id_in_paths_filters_and_bodies_is_at_least_1(schema):
    params = [
        p
        for item in schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for p in op.get("parameters", [])
    ]
    ids = [p for p in params if p["in"] == "path" and p["name"] == "id"]
    assert len(ids) >= 30
    assert all(p["schema"] == {"type": "integer", "minimum": 1} for p in ids)
    integer_filters = [p for p in params if p["in"] == "query" and p["schema"]["type"] == "integer"]
    assert all(p["schema"].get("minimum") == 1 for p in integer_filters), integer_filters
    dialpeer = schema["components"]["schemas"]["DialpeerRequest"]["properties"]
    for fk in ("customer", "trunk", "rule"):
        assert dialpeer[fk] == {"type": "integer", "minimum": 1, "title": dialpeer[fk]["title"]}


def test_every_plain_string_refuses_nul(schema):
    found = list(strings(schema))
    assert len(found) > 100
    for node in found:
        if "enum" in node or "format" in node:
            continue
        assert "pattern" in node, node
        assert not re.search(node["pattern"], "a\x00b"), node


def test_the_api_enforces_them(operator, tenant):
    api = token_client(operator)
    customer = CustomerFactory(tenant=tenant)
    assert api.get("/api/v1/customers/0/").status_code == 404
    assert api.get("/api/v1/customers/-1/").status_code == 404
    assert api.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    assert api.get("/api/v1/trunks/?customer=0").status_code == 400
    assert api.get("/api/v1/customers/?q=a%00b").status_code == 400
    body = {"name": "d", "customer": 0, "trunk": 0, "rule": 0}
    response = api.post("/api/v1/dialpeers/", body, format="json")
    assert response.status_code == 400 and set(response.json()) >= {"customer", "trunk", "rule"}
    response = api.patch(f"/api/v1/customers/{customer.pk}/", {"name": "a\x00b"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
