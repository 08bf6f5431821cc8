"""The shared CRUD battery (tests/crud.py) for Customer, Trunk, RatePlan and Rate."""

from datetime import UTC, datetime

from django.urls import reverse

from customers.models import Customer, Rate, RatePlan, Trunk
from tests.crud import CrudBattery
from tests.factories import (
    CustomerFactory,
    RateFactory,
    RatePlanFactory,
    TrunkFactory,
    TrunkNetworkFactory,
)


def networks_data(*networks, initial=0, ids=()):
    data = {
        "networks-TOTAL_FORMS": str(len(networks)),
        "networks-INITIAL_FORMS": str(initial),
        "networks-MIN_NUM_FORMS": "0",
        "networks-MAX_NUM_FORMS": "1000",
    }
    for i, net in enumerate(networks):
        data[f"networks-{i}-network"] = net
        if i < len(ids):
            data[f"networks-{i}-id"] = str(ids[i])
    return data


class TestCustomerCrud(CrudBattery):
    model = Customer
    url_prefix = "customers:customer"

    def make(self, tenant, **kw):
        return CustomerFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "Acme Telecom", "country": "AM", "billing_type": "prepaid"}

    def edit_data(self, obj):
        return {"name": obj.name + " Ltd", "country": "FR", "billing_type": "prepaid"}


class TestTrunkCrud(CrudBattery):
    model = Trunk
    url_prefix = "customers:trunk"

    def make(self, tenant, **kw):
        trunk = TrunkFactory(customer__tenant=tenant, **kw)
        TrunkNetworkFactory(trunk=trunk)
        return trunk

    def list_text(self, obj):
        return obj.name

    def add_data(self, tenant):
        customer = CustomerFactory(tenant=tenant)
        return {
            "customer": customer.pk,
            "name": "sbc-1",
            "tech_prefix": "991",
            "max_concurrent_calls": "10",
            "codecs": ["PCMA", "PCMU"],
            "status": "active",
            **networks_data("203.0.113.10"),
        }

    def edit_data(self, obj):
        nets = list(obj.networks.all())
        return {
            "customer": obj.customer_id,
            "name": obj.name + "-x",
            "tech_prefix": obj.tech_prefix,
            "max_concurrent_calls": "20",
            "codecs": ["G729"],
            "status": "disabled",
            **networks_data(
                *[n.network for n in nets], initial=len(nets), ids=[n.pk for n in nets]
            ),
        }

    def test_forged_customer_and_rate_plan_of_another_tenant_are_refused(
        self, op_client, tenant, other_tenant
    ):
        data = self.add_data(tenant)
        data["customer"] = CustomerFactory(tenant=other_tenant).pk
        data["rate_plan"] = RatePlanFactory(tenant=other_tenant).pk
        response = op_client.post(self.url("add"), data)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "Select a valid choice" in errors["customer"][0]
        assert "Select a valid choice" in errors["rate_plan"][0]
        assert not Trunk.objects.filter(name="sbc-1").exists()


class TestRatePlanCrud(CrudBattery):
    model = RatePlan
    url_prefix = "customers:rateplan"

    def make(self, tenant, **kw):
        return RatePlanFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "Retail 2026", "currency": "EUR", "status": "active"}

    def edit_data(self, obj):
        return {"name": obj.name + " v2", "currency": "USD", "status": "disabled"}


class TestRateCrud(CrudBattery):
    model = Rate
    url_prefix = "customers:rate"

    _plan = None

    def make(self, tenant, **kw):
        plan = RatePlanFactory(tenant=tenant)
        return RateFactory(rate_plan=plan, **kw)

    def url(self, action, obj=None):
        if action in ("list", "add"):
            plan = obj.rate_plan if obj is not None else self._plan
            return reverse(f"customers:rate_{action}", args=[plan.pk])
        return super().url(action, obj)

    def add_data(self, tenant):
        return {
            "code": "37491",
            "description": "",
            "valid_since": "2026-02-01T00:00",
            "rate_per_min": "0.12",
            "connection_fee": "0",
            "connection_sec": "0",
            "billing_block_sec": "1",
        }

    def edit_data(self, obj):
        return {
            "code": obj.code,
            "description": "Armenia mobile",
            "valid_since": "2026-03-01T00:00",
            "rate_per_min": "0.2",
            "connection_fee": "0.01",
            "connection_sec": "0",
            "billing_block_sec": "60",
        }

    def _set_plan(self, tenant):
        self._plan = RatePlanFactory(tenant=tenant, name="The plan")
        return self._plan

    # The battery's list/add tests reach the plan through url(); give them one.
    def test_list_requires_login(self, client, tenant):
        self._set_plan(tenant)
        super().test_list_requires_login(client, tenant)

    def test_list_shows_own_rows_and_never_another_tenants(self, op_client, tenant, other_tenant):
        mine = self.make(tenant, code="3749", description="Mine")
        theirs = self.make(other_tenant)
        self._plan = mine.rate_plan
        body = op_client.get(self.url("list")).content.decode()
        assert "Mine" in body
        assert self.url_for_row(theirs) not in body
        # Another tenant's plan: its destinations page is a 404.
        self._plan = theirs.rate_plan
        assert op_client.get(self.url("list")).status_code == 404
        assert op_client.get(self.url("add")).status_code == 404
        assert op_client.post(self.url("add"), self.add_data(tenant)).status_code == 404
        assert Rate.objects.filter(rate_plan=theirs.rate_plan).count() == 1

    def test_operator_adds_a_row(self, op_client, tenant):
        self._set_plan(tenant)
        super().test_operator_adds_a_row(op_client, tenant)
        rate = Rate.objects.get(rate_plan=self._plan, code="37491")
        assert rate.valid_since == datetime(2026, 2, 1, tzinfo=UTC)

    def test_viewer_reads_but_cannot_post(self, viewer_client, tenant):
        self._set_plan(tenant)
        super().test_viewer_reads_but_cannot_post(viewer_client, tenant)

    def test_viewer_sees_no_action_controls(self, viewer_client, tenant):
        self._set_plan(tenant)
        self._plan.rates.create(
            code="1", valid_since=datetime(2026, 1, 1, tzinfo=UTC), rate_per_min=1
        )
        body = viewer_client.get(self.url("list")).content.decode()
        assert f'href="{self.url("add")}"' not in body
        assert "⋮" not in body

    def test_list_query_count_does_not_grow_with_rows(self, op_client, tenant):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        plan = self._set_plan(tenant)
        RateFactory(rate_plan=plan, code="1")
        with CaptureQueriesContext(connection) as one:
            assert op_client.get(self.url("list")).status_code == 200
        for n in range(49):
            RateFactory(rate_plan=plan, code=str(200 + n))
        with CaptureQueriesContext(connection) as fifty:
            assert op_client.get(self.url("list")).status_code == 200
        assert len(fifty) == len(one)
