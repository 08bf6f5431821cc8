"""Every CRUD endpoint of /api/v1/ through the shared API battery."""

from customers.models import Customer, Rate, RatePlan, Trunk
from dialpeers.models import Dialpeer
from routing.models import Network, RoutingCheck, RoutingRule, RoutingTarget, VMGateClient
from tests.api.battery import ApiBattery
from tests.factories import (
    CustomerFactory,
    DialpeerFactory,
    NetworkFactory,
    RateFactory,
    RatePlanFactory,
    RoutingCheckFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    TrunkFactory,
    TrunkNetworkFactory,
    VMGateClientFactory,
)


class TestCustomerApi(ApiBattery):
    model = Customer
    basename = "customer"

    def make(self, tenant, **kw):
        return CustomerFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Carrier One", "country": "AM", "billing_type": "prepaid"}

    def update_body(self, obj):
        return {"name": obj.name + " renamed", "country": "DE", "billing_type": "postpaid"}

    def patch_body(self, obj):
        return {"status": "blocked", "credit_limit": "12.5000"}

    def refusals(self, tenant):
        CustomerFactory(tenant=tenant, name="Taken")
        base = self.create_body(tenant)
        return [
            ("duplicate name, other case", {**base, "name": "TAKEN"}, "name"),
            ("name missing", {"country": "AM"}, "name"),
            ("unknown country", {**base, "country": "XX"}, "country"),
            ("negative credit line", {**base, "credit_limit": "-1"}, "credit_limit"),
            ("negative overdraft", {**base, "overdraft_limit": "-0.5"}, "overdraft_limit"),
            ("NUL in name", {**base, "name": "a\x00b"}, "name"),
            ("number as name", {**base, "name": 5}, "name"),
            ("float credit line", {**base, "credit_limit": 1.5}, "credit_limit"),
            ("bad billing type", {**base, "billing_type": "credit"}, "billing_type"),
        ]

    def protected(self, tenant):
        return TrunkFactory(customer__tenant=tenant).customer


class TestTrunkApi(ApiBattery):
    model = Trunk
    basename = "trunk"
    foreign_keys = ("customer", "rate_plan")

    def make(self, tenant, **kw):
        trunk = TrunkFactory(customer__tenant=tenant, **kw)
        TrunkNetworkFactory(trunk=trunk)
        return trunk

    def create_body(self, tenant):
        customer = CustomerFactory(tenant=tenant)
        return {
            "customer": customer.pk,
            "name": "ingress-1",
            "tech_prefix": "77",
            "networks": ["203.0.113.10", "198.51.100.0/24"],
        }

    def update_body(self, obj):
        return {
            "customer": obj.customer_id,
            "name": obj.name,
            "tech_prefix": "55",
            "codecs": ["PCMA"],
            "networks": ["192.0.2.0/25"],
        }

    def patch_body(self, obj):
        return {"status": "disabled", "networks": ["192.0.2.128/25", "2001:db8::/32"]}

    def foreign_value(self, field, tenant):
        if field == "customer":
            return CustomerFactory(tenant=tenant).pk
        return RatePlanFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        other = TrunkFactory(customer__tenant=tenant, tech_prefix="99", name="taken")
        TrunkNetworkFactory(trunk=other, network="100.64.0.0/16")
        return [
            ("host bits", {**base, "networks": ["198.51.100.1/24"]}, "networks"),
            ("whole internet", {**base, "networks": ["0.0.0.0/0"]}, "networks"),
            ("zone id", {**base, "networks": ["fe80::1%eth0"]}, "networks"),
            ("duplicate", {**base, "networks": ["192.0.2.1", "192.0.2.1/32"]}, "networks"),
            ("garbage", {**base, "networks": ["not an ip"]}, "networks"),
            ("no networks", {**base, "networks": []}, "networks"),
            (
                "overlap with same prefix",
                {**base, "tech_prefix": "99", "networks": ["100.64.1.0/24"]},
                "networks",
            ),
            ("bad tech prefix", {**base, "tech_prefix": "12a"}, "tech_prefix"),
            ("empty tech prefix", {**base, "tech_prefix": ""}, "tech_prefix"),
            ("no codec", {**base, "codecs": []}, "codecs"),
            ("unknown codec", {**base, "codecs": ["SPEEX"]}, "codecs"),
            ("zero calls", {**base, "max_concurrent_calls": 0}, "max_concurrent_calls"),
            (
                "same name for the customer",
                {**base, "customer": other.customer_id, "name": "taken"},
                "non_field_errors",
            ),
        ]

    def protected(self, tenant):
        return DialpeerFactory(trunk__customer__tenant=tenant).trunk


class TestRatePlanApi(ApiBattery):
    model = RatePlan
    basename = "rateplan"

    def make(self, tenant, **kw):
        return RatePlanFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Retail", "currency": "EUR"}

    def update_body(self, obj):
        return {"name": obj.name + " 2", "currency": "USD", "status": "active"}

    def patch_body(self, obj):
        return {"status": "disabled"}

    def refusals(self, tenant):
        RatePlanFactory(tenant=tenant, name="Taken")
        return [
            ("duplicate name", {"name": "Taken"}, "non_field_errors"),
            ("lower-case currency", {"name": "x", "currency": "usd"}, "currency"),
        ]

    def protected(self, tenant):
        plan = RatePlanFactory(tenant=tenant)
        TrunkFactory(customer__tenant=tenant, rate_plan=plan)
        return plan


class TestRateApi(ApiBattery):
    model = Rate
    basename = "rate"
    foreign_keys = ("rate_plan",)
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return RateFactory(rate_plan__tenant=tenant, **kw)

    def create_body(self, tenant):
        plan = RatePlanFactory(tenant=tenant)
        return {
            "rate_plan": plan.pk,
            "code": "374",
            "valid_since": "2026-01-01T00:00:00Z",
            "rate_per_min": "0.050000",
        }

    def update_body(self, obj):
        return {
            "rate_plan": obj.rate_plan_id,
            "code": "3749",
            "valid_since": "2026-02-01T00:00:00Z",
            "rate_per_min": "0.070000",
        }

    def patch_body(self, obj):
        return {"connection_fee": "0.010000", "billing_block_sec": 60}

    def foreign_value(self, field, tenant):
        return RatePlanFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        RateFactory(rate_plan_id=base["rate_plan"], code="374")
        return [
            ("same code and time", base, "non_field_errors"),
            ("letters in code", {**base, "code": "37a"}, "code"),
            ("arabic-indic digits", {**base, "code": "٣٧٤"}, "code"),
            ("code as integer", {**base, "code": 374}, "code"),
            ("negative rate", {**base, "code": "1", "rate_per_min": "-1"}, "rate_per_min"),
            (
                "zero billing block",
                {**base, "code": "1", "billing_block_sec": 0},
                "billing_block_sec",
            ),
            ("no time", {**base, "valid_since": "soon"}, "valid_since"),
        ]


class TestNetworkApi(ApiBattery):
    model = Network
    basename = "network"

    def make(self, tenant, **kw):
        return NetworkFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"name": "Yerevan site"}

    def update_body(self, obj):
        return {"name": obj.name + " 2"}

    def patch_body(self, obj):
        return {"name": "renamed"}

    def refusals(self, tenant):
        NetworkFactory(tenant=tenant, name="Taken")
        return [
            ("duplicate", {"name": "Taken"}, "non_field_errors"),
            ("blank", {"name": ""}, "name"),
        ]

    def protected(self, tenant):
        return VMGateClientFactory(network__tenant=tenant).network


class TestVMGateClientApi(ApiBattery):
    model = VMGateClient
    basename = "vmgateclient"
    foreign_keys = ("network",)

    def make(self, tenant, **kw):
        client = VMGateClientFactory(network__tenant=tenant, **kw)
        SimSlotFactory(client=client, position=1)
        return client

    def create_body(self, tenant):
        return {
            "name": "gw-1",
            "node_id": "node-1",
            "network": NetworkFactory(tenant=tenant).pk,
            "sip_uri": "sip:10.8.0.12:5060",
            "slots": [{"position": 1}, {"position": 2, "label": "Beeline", "enabled": False}],
        }

    def update_body(self, obj):
        return {
            "name": obj.name,
            "node_id": obj.node_id,
            "network": obj.network_id,
            "sip_uri": "sip:10.8.0.13:5060",
            "slots": [{"position": 3, "label": "", "enabled": True}],
        }

    def patch_body(self, obj):
        return {"status": "off", "active_calls": 3}

    def foreign_value(self, field, tenant):
        return NetworkFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        VMGateClientFactory(network__tenant=tenant, node_id="taken")
        return [
            ("duplicate node id", {**base, "node_id": "taken"}, "non_field_errors"),
            ("not a SIP URI", {**base, "sip_uri": "http://x"}, "sip_uri"),
            ("negative calls", {**base, "active_calls": -1}, "active_calls"),
            ("calls as string", {**base, "active_calls": "3"}, "active_calls"),
            ("bad status", {**base, "status": "broken"}, "status"),
            ("slot 9", {**base, "slots": [{"position": 9}]}, "slots"),
            ("slot twice", {**base, "slots": [{"position": 1}, {"position": 1}]}, "slots"),
        ]

    def protected(self, tenant):
        return RoutingTargetFactory(rule__tenant=tenant).client


class TestRoutingRuleApi(ApiBattery):
    model = RoutingRule
    basename = "routingrule"
    foreign_keys = ("trunk",)

    def make(self, tenant, **kw):
        return RoutingRuleFactory(tenant=tenant, **kw)

    def create_body(self, tenant):
        return {"code": "374", "assignment": "priority"}

    def update_body(self, obj):
        return {"code": "3749", "label": "Armenia mobile", "assignment": "weight"}

    def patch_body(self, obj):
        return {"is_active": False}

    def foreign_value(self, field, tenant):
        return TrunkFactory(customer__tenant=tenant).pk

    def refusals(self, tenant):
        dp = DialpeerFactory(trunk__customer__tenant=tenant, rule__code="1")
        return [
            ("letters", {"code": "1a"}, "code"),
            ("sixteen digits", {"code": "1" * 16}, "code"),
            ("full-width digits", {"code": "３７４"}, "code"),
            ("bad assignment", {"code": "1", "assignment": "random"}, "assignment"),
            ("active as string", {"code": "1", "is_active": "false"}, "is_active"),
            ("unknown trunk", {"code": "1", "trunk": dp.trunk_id + 10_000}, "trunk"),
        ]

    def protected(self, tenant):
        return DialpeerFactory(trunk__customer__tenant=tenant).rule


class TestRoutingTargetApi(ApiBattery):
    model = RoutingTarget
    basename = "routingtarget"
    foreign_keys = ("rule", "client")
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return RoutingTargetFactory(rule__tenant=tenant, **kw)

    def create_body(self, tenant):
        client = VMGateClientFactory(network__tenant=tenant)
        return {"rule": RoutingRuleFactory(tenant=tenant).pk, "client": client.pk, "priority": 1}

    def update_body(self, obj):
        return {"rule": obj.rule_id, "network": obj.client.network_id, "weight": 5}

    def patch_body(self, obj):
        return {"weight": 100, "is_active": False}

    def foreign_value(self, field, tenant):
        if field == "rule":
            return RoutingRuleFactory(tenant=tenant).pk
        return VMGateClientFactory(network__tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        client = VMGateClientFactory(network__tenant=tenant)
        slot = SimSlotFactory(client=client, position=2)
        return [
            ("two kinds", {**base, "sim_slot": slot.pk}, "non_field_errors"),
            ("no kind", {"rule": base["rule"]}, "non_field_errors"),
            ("weight 0", {**base, "weight": 0}, "weight"),
            ("weight 101", {**base, "weight": 101}, "weight"),
            ("negative priority", {**base, "priority": -1}, "priority"),
        ]


class TestDialpeerApi(ApiBattery):
    model = Dialpeer
    basename = "dialpeer"
    foreign_keys = ("customer", "trunk", "rule")
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return DialpeerFactory(trunk__customer__tenant=tenant, **kw)

    def create_body(self, tenant):
        trunk = TrunkFactory(customer__tenant=tenant)
        rule = RoutingRuleFactory(tenant=tenant, code="374")
        return {
            "name": "AM via trunk",
            "customer": trunk.customer_id,
            "trunk": trunk.pk,
            "rule": rule.pk,
        }

    def update_body(self, obj):
        return {
            "name": obj.name + " 2",
            "customer": obj.customer_id,
            "trunk": obj.trunk_id,
            "rule": obj.rule_id,
            "is_active": True,
        }

    def patch_body(self, obj):
        return {"is_active": False}

    def foreign_value(self, field, tenant):
        trunk = TrunkFactory(customer__tenant=tenant)
        return {
            "customer": trunk.customer_id,
            "trunk": trunk.pk,
            "rule": RoutingRuleFactory(tenant=tenant).pk,
        }[field]

    def refusals(self, tenant):
        base = self.create_body(tenant)
        DialpeerFactory(
            trunk_id=base["trunk"],
            customer_id=base["customer"],
            rule_id=base["rule"],
            tenant=tenant,
        )
        other_trunk = TrunkFactory(customer__tenant=tenant)
        same_code = RoutingRuleFactory(tenant=tenant, code="374")
        scoped_rule = RoutingRuleFactory(tenant=tenant, code="1", trunk=other_trunk)
        return [
            ("duplicate", base, "non_field_errors"),
            ("trunk of another customer", {**base, "trunk": other_trunk.pk}, "trunk"),
            ("same code twice on the trunk", {**base, "rule": same_code.pk}, "rule"),
            ("rule scoped to another trunk", {**base, "rule": scoped_rule.pk}, "rule"),
            ("missing name", {**base, "name": ""}, "name"),
            ("rule id as string", {**base, "rule": str(base["rule"])}, "rule"),
        ]


class TestRoutingCheckApi(ApiBattery):
    model = RoutingCheck
    basename = "routingcheck"
    foreign_keys = ("trunk", "expected_rule")
    test_a_protected_delete_is_a_409 = None

    def make(self, tenant, **kw):
        return RoutingCheckFactory(trunk__customer__tenant=tenant, **kw)

    def create_body(self, tenant):
        trunk = TrunkFactory(customer__tenant=tenant)
        return {
            "name": "AM routes",
            "trunk": trunk.pk,
            "called_number": trunk.tech_prefix + "37412345",
            "expected_outcome": "routed",
        }

    def update_body(self, obj):
        return {
            "name": obj.name,
            "source_ip": "203.0.113.10",
            "called_number": "37412345",
            "expected_outcome": "rejected",
            "expected_reason": "unknown_source",
        }

    def patch_body(self, obj):
        return {"called_number": "3741"}

    def foreign_value(self, field, tenant):
        if field == "trunk":
            return TrunkFactory(customer__tenant=tenant).pk
        return RoutingRuleFactory(tenant=tenant).pk

    def refusals(self, tenant):
        base = self.create_body(tenant)
        return [
            ("both ingresses", {**base, "source_ip": "203.0.113.1"}, "non_field_errors"),
            ("no ingress", {**base, "trunk": None}, "non_field_errors"),
            ("bad IP", {**base, "trunk": None, "source_ip": "300.1.1.1"}, "source_ip"),
            ("bad outcome", {**base, "expected_outcome": "maybe"}, "expected_outcome"),
        ]


def test_balance_is_a_read_only_decimal_string(op_api, tenant):
    # The balance moves only through balance entries: a value sent with the customer is
    # ignored (readOnly in the schema), and it reads back as a decimal string.
    response = op_api.post(
        "/api/v1/customers/",
        {"name": "Money", "country": "AM", "balance": "10.1234"},
    )
    assert response.status_code == 201
    assert response.json()["balance"] == "0.0000"
    pk = response.json()["id"]
    assert op_api.patch(f"/api/v1/customers/{pk}/", {"balance": "99"}).status_code == 200
    assert Customer.objects.get(pk=pk).balance == 0
    body = {"customer": pk, "kind": "payment", "amount": "10.12"}
    assert op_api.post("/api/v1/balance-entries/", body).status_code == 201
    assert op_api.get(f"/api/v1/customers/{pk}/").json()["balance"] == "10.1200"


def test_list_filters_are_the_ui_filtersets_read_strictly(op_api, tenant):
    from tests.factories import NetworkFactory, VMGateClientFactory

    yerevan = NetworkFactory(tenant=tenant, name="Yerevan")
    gyumri = NetworkFactory(tenant=tenant, name="Gyumri")
    mine = VMGateClientFactory(network=yerevan, name="gw-yerevan")
    VMGateClientFactory(network=gyumri, name="gw-gyumri", status="off")
    rows = op_api.get(f"/api/v1/clients/?network={yerevan.pk}").json()["results"]
    assert [r["id"] for r in rows] == [mine.pk]
    rows = op_api.get("/api/v1/clients/?status=off").json()["results"]
    assert [r["name"] for r in rows] == ["gw-gyumri"]
    for bad in ("status=", "status=broken", "network=abc", "status=off&status=ready"):
        assert op_api.get(f"/api/v1/clients/?{bad}").status_code == 400, bad


def test_a_filter_on_another_tenants_row_reads_like_a_missing_one(op_api, tenant, other_tenant):
    from tests.factories import NetworkFactory

    theirs = NetworkFactory(tenant=other_tenant)
    forged = op_api.get(f"/api/v1/clients/?network={theirs.pk}")
    missing = op_api.get(f"/api/v1/clients/?network={theirs.pk + 10_000}")
    assert forged.status_code == missing.status_code == 400
    assert forged.json() == missing.json()


def test_pagination_pages_and_refuses_a_malformed_page_size(op_api, tenant):
    from tests.factories import NetworkFactory

    for i in range(7):
        NetworkFactory(tenant=tenant, name=f"N{i}")
    page = op_api.get("/api/v1/networks/?page_size=5&page=2").json()
    assert page["count"] == 7 and len(page["results"]) == 2
    assert page["previous"] and page["next"] is None
    for bad in ("0", "-1", "x", "null"):
        assert op_api.get(f"/api/v1/networks/?page_size={bad}").status_code == 400
    assert op_api.get("/api/v1/networks/?page=9").status_code == 404


def test_rates_filter_by_plan_and_code_prefix(op_api, tenant, other_tenant):
    mine = RatePlanFactory(tenant=tenant)
    other_plan = RatePlanFactory(tenant=tenant)
    theirs = RatePlanFactory(tenant=other_tenant)
    keep = RateFactory(rate_plan=mine, code="3749")
    RateFactory(rate_plan=mine, code="44")
    RateFactory(rate_plan=other_plan, code="3749")
    rows = op_api.get(f"/api/v1/rates/?rate_plan={mine.pk}&code=374").json()["results"]
    assert [r["id"] for r in rows] == [keep.pk]
    assert op_api.get(f"/api/v1/rates/?rate_plan={theirs.pk}").status_code == 400


def test_trunks_filter_by_customer_is_tenant_scoped(op_api, tenant, other_tenant):
    trunk = TrunkFactory(customer__tenant=tenant)
    TrunkFactory(customer__tenant=tenant)
    theirs = CustomerFactory(tenant=other_tenant)
    rows = op_api.get(f"/api/v1/trunks/?customer={trunk.customer_id}").json()["results"]
    assert [r["id"] for r in rows] == [trunk.pk]
    forged = op_api.get(f"/api/v1/trunks/?customer={theirs.pk}")
    missing = op_api.get(f"/api/v1/trunks/?customer={theirs.pk + 10_000}")
    assert forged.status_code == missing.status_code == 400
    assert forged.json() == missing.json()


def test_routing_targets_filter_by_rule_kind_and_state(op_api, tenant):
    target = RoutingTargetFactory(rule__tenant=tenant)
    other = RoutingTargetFactory(rule__tenant=tenant, is_active=False)
    rows = op_api.get(f"/api/v1/routing-targets/?rule={target.rule_id}").json()["results"]
    assert [r["id"] for r in rows] == [target.pk]
    rows = op_api.get("/api/v1/routing-targets/?is_active=false&kind=client").json()["results"]
    assert [r["id"] for r in rows] == [other.pk]
    assert op_api.get("/api/v1/routing-targets/?kind=network").json()["count"] == 0
