"""The shared CRUD battery (DESIGN.md §8). A model's test class subclasses ``CrudBattery``
and fills in the hooks; every test here then runs against that model.

Hooks:
- ``url_prefix``: e.g. ``"customers:customer"`` (actions ``_list``, ``_detail``, ``_add``,
  ``_edit``, ``_delete``; set ``has_detail = False`` etc. for pages the model lacks).
- ``make(tenant, **kw)``: create one row of ``tenant``.
- ``add_data(tenant)``: a valid POST body for the add form (the row it creates must be found
  by ``created(tenant)``).
- ``edit_data(obj)``: a valid POST body for the edit form.
- ``list_text(obj)``: a string the list page shows for the row.

A model without some page sets ``has_detail = False`` (etc.) *and* drops the tests of that
page by assigning ``None`` to them (``test_detail_requires_login = None``): pytest does not
collect a non-callable, and no test is ever skipped.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from vmgate.tenancy import scoped


@pytest.mark.django_db
class CrudBattery:
    model = None
    url_prefix = ""
    has_detail = True
    has_add = True
    has_edit = True
    has_delete = True

    # hooks -----------------------------------------------------------------------------
    def make(self, tenant, **kw):
        raise NotImplementedError

    def add_data(self, tenant):
        raise NotImplementedError

    def edit_data(self, obj):
        raise NotImplementedError

    def list_text(self, obj):
        return str(obj)

    def url(self, action, obj=None):
        name = f"{self.url_prefix}_{action}"
        return reverse(name, args=[obj.pk]) if obj is not None else reverse(name)

    def count(self, tenant):
        return scoped(self.model, tenant).count()

    # login ----------------------------------------------------------------------------
    def test_list_requires_login(self, client, tenant):
        response = client.get(self.url("list"))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_detail_requires_login(self, client, tenant):
        obj = self.make(tenant)
        response = client.get(self.url("detail", obj))
        assert response.status_code == 302

    # isolation ------------------------------------------------------------------------
    def test_list_shows_own_rows_and_never_another_tenants(self, op_client, tenant, other_tenant):
        mine = self.make(tenant)
        theirs = self.make(other_tenant)
        response = op_client.get(self.url("list"))
        assert response.status_code == 200
        body = response.content.decode()
        assert self.list_text(mine) in body
        assert self.url_for_row(theirs) not in body

    def url_for_row(self, obj):
        """A marker of the row that only its own page would contain (its detail/edit URL)."""
        for action, enabled in (("detail", self.has_detail), ("edit", self.has_edit)):
            if enabled:
                return self.url(action, obj)
        return f'data-pk="{obj.pk}"'

    def assert_other_tenant_404(self, client, other_tenant, action, post):
        theirs = self.make(other_tenant)
        assert client.get(self.url(action, theirs)).status_code == 404
        if post:
            before = self.count(other_tenant)
            assert client.post(self.url(action, theirs), {}).status_code == 404
            assert self.count(other_tenant) == before

    def test_another_tenants_detail_is_404(self, op_client, tenant, other_tenant):
        self.assert_other_tenant_404(op_client, other_tenant, "detail", post=False)

    def test_another_tenants_edit_is_404(self, op_client, tenant, other_tenant):
        self.assert_other_tenant_404(op_client, other_tenant, "edit", post=True)

    def test_another_tenants_delete_is_404(self, op_client, tenant, other_tenant):
        self.assert_other_tenant_404(op_client, other_tenant, "delete", post=True)

    def test_a_missing_id_is_404(self, op_client, tenant):
        assert (
            op_client.get(reverse(f"{self.url_prefix}_detail", args=[999999999])).status_code == 404
        )

    # pages ----------------------------------------------------------------------------
    def test_detail_page_shows_the_row(self, op_client, tenant):
        obj = self.make(tenant)
        response = op_client.get(self.url("detail", obj))
        assert response.status_code == 200

    def test_operator_adds_a_row(self, op_client, tenant):
        assert op_client.get(self.url("add")).status_code == 200
        before = self.count(tenant)
        response = op_client.post(self.url("add"), self.add_data(tenant))
        assert response.status_code == 302, (
            getattr(response, "context", {})
            and response.context.get("form")
            and response.context["form"].errors
        )
        assert self.count(tenant) == before + 1

    def test_operator_edits_a_row(self, op_client, tenant):
        obj = self.make(tenant)
        assert op_client.get(self.url("edit", obj)).status_code == 200
        response = op_client.post(self.url("edit", obj), self.edit_data(obj))
        assert response.status_code == 302, response.context and response.context["form"].errors

    def test_operator_deletes_a_row(self, op_client, tenant):
        obj = self.make(tenant)
        assert op_client.get(self.url("delete", obj)).status_code == 200
        response = op_client.post(self.url("delete", obj))
        assert response.status_code == 302
        assert not self.model.objects.filter(pk=obj.pk).exists()

    # viewer ---------------------------------------------------------------------------
    def test_viewer_reads_but_cannot_post(self, viewer_client, tenant):
        obj = self.make(tenant)
        assert viewer_client.get(self.url("list")).status_code == 200
        before = self.count(tenant)
        if self.has_add:
            assert viewer_client.post(self.url("add"), self.add_data(tenant)).status_code == 403
        if self.has_edit:
            assert viewer_client.post(self.url("edit", obj), self.edit_data(obj)).status_code == 403
        if self.has_delete:
            assert viewer_client.post(self.url("delete", obj)).status_code == 403
        assert self.count(tenant) == before

    def test_viewer_sees_no_action_controls(self, viewer_client, tenant):
        self.make(tenant)
        body = viewer_client.get(self.url("list")).content.decode()
        if self.has_add:
            assert f'href="{self.url("add")}"' not in body
        assert "⋮" not in body

    # queries --------------------------------------------------------------------------
    def test_list_query_count_does_not_grow_with_rows(self, op_client, tenant):
        self.make(tenant)
        with CaptureQueriesContext(connection) as one:
            assert op_client.get(self.url("list")).status_code == 200
        for _ in range(49):
            self.make(tenant)
        with CaptureQueriesContext(connection) as fifty:
            assert op_client.get(self.url("list")).status_code == 200
        assert len(fifty) == len(one), [q["sql"] for q in fifty.captured_queries]
