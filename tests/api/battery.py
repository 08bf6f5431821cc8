"""The API battery (DESIGN.md §8 for the JSON API): one subclass per endpoint.

Hooks:
- ``basename``: the router basename (``api:<basename>-list`` / ``-detail``).
- ``make(tenant, **kw)``: one row of ``tenant``.
- ``create_body(tenant)``: a valid POST body (builds what it references).
- ``update_body(obj)``: a valid full PUT body for ``obj``; ``patch_body(obj)`` a PATCH body.
- ``foreign_keys``: names of body fields that reference other tenant rows;
  ``foreign_value(field, tenant)`` makes such a row for ``tenant`` and returns its id.
- ``refusals(tenant)``: ``(description, body, field)`` triples, each a body the model
  refuses with an error on ``field``.
- ``protected(tenant)``: a row whose delete must be refused (409), or None.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from vmgate.api_auth import token_cache
from vmgate.tenancy import scoped


@pytest.mark.django_db
class ApiBattery:
    model = None
    basename = ""
    foreign_keys = ()

    def make(self, tenant, **kw):
        raise NotImplementedError

    def create_body(self, tenant):
        raise NotImplementedError

    def update_body(self, obj):
        raise NotImplementedError

    def patch_body(self, obj):
        raise NotImplementedError

    def foreign_value(self, field, tenant):
        raise NotImplementedError

    def refusals(self, tenant):
        return []

    def protected(self, tenant):
        return None

    # helpers -----------------------------------------------------------------------------
    def list_url(self):
        return reverse(f"api:{self.basename}-list")

    def detail_url(self, obj_or_pk):
        pk = getattr(obj_or_pk, "pk", obj_or_pk)
        return reverse(f"api:{self.basename}-detail", args=[pk])

    def count(self, tenant):
        return scoped(self.model, tenant).count()

    # authentication ----------------------------------------------------------------------
    def test_anonymous_is_refused_everything(self, anon_api, tenant):
        obj = self.make(tenant)
        assert anon_api.get(self.list_url()).status_code == 401
        assert anon_api.get(self.detail_url(obj)).status_code == 401
        assert anon_api.post(self.list_url(), self.create_body(tenant)).status_code == 401
        assert anon_api.patch(self.detail_url(obj), {}).status_code == 401
        assert anon_api.delete(self.detail_url(obj)).status_code == 401
        assert self.count(tenant) == 1

    def test_a_bad_token_is_refused(self, anon_api, tenant):
        anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
        assert anon_api.get(self.list_url()).status_code == 401

    def test_viewer_token_reads_but_cannot_write(self, viewer_api, tenant):
        obj = self.make(tenant)
        assert viewer_api.get(self.list_url()).status_code == 200
        assert viewer_api.get(self.detail_url(obj)).status_code == 200
        assert viewer_api.post(self.list_url(), self.create_body(tenant)).status_code == 403
        assert viewer_api.put(self.detail_url(obj), self.update_body(obj)).status_code == 403
        assert viewer_api.patch(self.detail_url(obj), self.patch_body(obj)).status_code == 403
        assert viewer_api.delete(self.detail_url(obj)).status_code == 403
        assert self.count(tenant) == 1

    # CRUD ------------------------------------------------------------------------------
    def test_operator_creates_reads_updates_and_deletes(self, op_api, tenant):
        body = self.create_body(tenant)
        response = op_api.post(self.list_url(), body)
        assert response.status_code == 201, response.json()
        pk = response.json()["id"]
        obj = scoped(self.model, tenant).get(pk=pk)
        assert op_api.get(self.detail_url(pk)).json()["id"] == pk

        response = op_api.put(self.detail_url(obj), self.update_body(obj))
        assert response.status_code == 200, response.json()
        patch = self.patch_body(obj)
        response = op_api.patch(self.detail_url(obj), patch)
        assert response.status_code == 200, response.json()
        for field, value in patch.items():
            assert response.json()[field] == value

        listed = op_api.get(self.list_url()).json()
        assert pk in [row["id"] for row in listed["results"]]

        assert op_api.delete(self.detail_url(obj)).status_code == 204
        assert not self.model.objects.filter(pk=pk).exists()

    # isolation ---------------------------------------------------------------------------
    def test_another_tenants_row_is_a_404_like_a_missing_one(self, op_api, tenant, other_tenant):
        theirs = self.make(other_tenant)
        missing = self.detail_url(theirs.pk + 10_000)
        for method in ("get", "delete"):
            assert getattr(op_api, method)(self.detail_url(theirs)).status_code == 404
            assert getattr(op_api, method)(missing).status_code == 404
        assert op_api.patch(self.detail_url(theirs), {}).status_code == 404
        assert op_api.put(self.detail_url(theirs), self.update_body(theirs)).status_code == 404
        assert self.model.objects.filter(pk=theirs.pk).exists()
        ids = [row["id"] for row in op_api.get(self.list_url()).json()["results"]]
        assert theirs.pk not in ids

    def test_foreign_keys_of_another_tenant_read_like_missing_ids(
        self, op_api, tenant, other_tenant
    ):
        for field in self.foreign_keys:
            body = self.create_body(tenant)
            foreign = self.foreign_value(field, other_tenant)
            body[field] = foreign
            forged = op_api.post(self.list_url(), body)
            assert forged.status_code == 400, (field, forged.json())
            body[field] = foreign + 10_000
            missing = op_api.post(self.list_url(), body)
            assert missing.status_code == 400
            assert forged.json()[field] == [
                m.replace(str(foreign + 10_000), str(foreign)) for m in missing.json()[field]
            ]
        assert self.count(tenant) == 0

    # validation --------------------------------------------------------------------------
    def test_each_refusal_is_a_400_naming_the_field(self, op_api, tenant):
        cases = self.refusals(tenant)
        before = self.count(tenant)
        for description, body, field in cases:
            response = op_api.post(self.list_url(), body)
            assert response.status_code == 400, (description, response.content)
            assert field in response.json(), (description, response.json())
        assert self.count(tenant) == before

    def test_a_protected_delete_is_a_409(self, op_api, tenant):
        obj = self.protected(tenant)
        if obj is None:
            pytest.fail("set test_a_protected_delete_is_a_409 = None for a model without one")
        response = op_api.delete(self.detail_url(obj))
        assert response.status_code == 409
        assert "still used by" in response.json()["detail"]
        assert self.model.objects.filter(pk=obj.pk).exists()

    # speed -------------------------------------------------------------------------------
    def test_list_query_count_does_not_grow_with_rows(self, op_api, tenant):
        self.make(tenant)
        op_api.get(self.list_url())  # the token's first use writes last_used_at once
        token_cache.clear()  # both measured requests resolve the token
        with CaptureQueriesContext(connection) as one:
            assert op_api.get(self.list_url()).status_code == 200
        for _ in range(49):
            self.make(tenant)
        token_cache.clear()
        with CaptureQueriesContext(connection) as fifty:
            response = op_api.get(self.list_url())
        assert len(response.json()["results"]) == 50
        assert len(one) == len(fifty), [q["sql"] for q in fifty.captured_queries]
