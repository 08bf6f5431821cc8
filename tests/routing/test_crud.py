"""The shared CRUD battery for the routing pages: networks, VMGateClients (with SIM slots),
routing rules and their targets."""

import pytest
from django.urls import reverse

from routing.models import Network, RoutingRule, RoutingTarget, VMGateClient
from tests.crud import CrudBattery
from tests.factories import (
    NetworkFactory,
    RoutingRuleFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    VMGateClientFactory,
)


def slot_management(total, initial=0):
    return {
        "slots-TOTAL_FORMS": str(total),
        "slots-INITIAL_FORMS": str(initial),
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "8",
    }


class TestNetworkCrud(CrudBattery):
    model = Network
    url_prefix = "routing:network"

    def make(self, tenant, **kw):
        return NetworkFactory(tenant=tenant, **kw)

    def add_data(self, tenant):
        return {"name": "Yerevan site"}

    def edit_data(self, obj):
        return {"name": obj.name + " (renamed)"}


class TestVMGateClientCrud(CrudBattery):
    model = VMGateClient
    url_prefix = "routing:vmgateclient"

    def make(self, tenant, **kw):
        client = VMGateClientFactory(network__tenant=tenant, **kw)
        SimSlotFactory(client=client, position=1)
        SimSlotFactory(client=client, position=2, enabled=False)
        return client

    def add_data(self, tenant):
        network = NetworkFactory(tenant=tenant)
        return {
            "name": "gw-new",
            "node_id": "node-new",
            "network": network.pk,
            "status": "ready",
            "active_calls": "0",
            "sip_uri": "sip:10.8.0.12:5060",
            **slot_management(2),
            "slots-0-position": "1",
            "slots-0-enabled": "on",
            "slots-0-label": "Beeline",
            "slots-1-position": "2",
            "slots-1-label": "",
        }

    def edit_data(self, obj):
        slots = list(obj.slots.order_by("position"))
        data = {
            "name": obj.name,
            "node_id": obj.node_id,
            "network": obj.network_id,
            "status": "off",
            "active_calls": "3",
            "sip_uri": obj.sip_uri,
            **slot_management(len(slots), len(slots)),
        }
        for i, slot in enumerate(slots):
            data[f"slots-{i}-id"] = slot.pk
            data[f"slots-{i}-position"] = slot.position
            data[f"slots-{i}-enabled"] = "on"
            data[f"slots-{i}-label"] = f"SIM {slot.position}"
        return data

    def test_operator_adds_a_row(self, op_client, tenant):
        super().test_operator_adds_a_row(op_client, tenant)
        client = VMGateClient.objects.get(tenant=tenant, node_id="node-new")
        slots = list(client.slots.order_by("position").values_list("position", "enabled", "label"))
        assert slots == [(1, True, "Beeline"), (2, False, "")]

    def test_operator_edits_a_row(self, op_client, tenant):
        super().test_operator_edits_a_row(op_client, tenant)
        client = VMGateClient.objects.get(tenant=tenant)
        assert client.status == "off" and client.active_calls == 3
        assert list(client.slots.values_list("label", "enabled")) == [
            ("SIM 1", True),
            ("SIM 2", True),
        ]


class TestRoutingRuleCrud(CrudBattery):
    model = RoutingRule
    url_prefix = "routing:routingrule"

    def make(self, tenant, **kw):
        rule = RoutingRuleFactory(tenant=tenant, **kw)
        RoutingTargetFactory(rule=rule)
        return rule

    def add_data(self, tenant):
        return {"assignment": "weight", "code": "3749", "label": "", "trunk": "", "is_active": "on"}

    def edit_data(self, obj):
        return {
            "assignment": "priority",
            "code": obj.code,
            "label": "Armenia mobile",
            "trunk": "",
            "is_active": "on",
        }

    def list_text(self, obj):
        return f'data-pk="{obj.pk}"'


class TestRoutingTargetCrud(CrudBattery):
    """Targets live on their rule's targets page: the "list" is that page, "add" posts a
    new row to it, and each row has its own edit and delete endpoints."""

    model = RoutingTarget
    url_prefix = "routing:routingtarget"
    has_detail = False

    @pytest.fixture(autouse=True)
    def _rule(self, tenant):
        self.rule = RoutingRuleFactory(tenant=tenant, code="374")

    def url(self, action, obj=None):
        if action == "list":
            return reverse("routing:routingrule_targets", args=[self.rule.pk])
        if action == "add":
            return reverse("routing:routingtarget_add", args=[self.rule.pk])
        return super().url(action, obj)

    def make(self, tenant, **kw):
        rule = self.rule if tenant == self.rule.tenant else RoutingRuleFactory(tenant=tenant)
        return RoutingTargetFactory(rule=rule, **kw)

    def add_data(self, tenant):
        client = VMGateClientFactory(network__tenant=tenant)
        return {
            "new-kind": "client",
            "new-client": client.pk,
            "new-weight": "5",
            "new-priority": "0",
            "new-is_active": "on",
        }

    def edit_data(self, obj):
        p = f"t{obj.pk}"
        return {
            f"{p}-kind": "client",
            f"{p}-client": obj.client_id,
            f"{p}-weight": "7",
            f"{p}-priority": "0",
            f"{p}-is_active": "on",
        }

    def list_text(self, obj):
        return f'data-pk="{obj.pk}"'

    test_detail_requires_login = None
    test_another_tenants_detail_is_404 = None
    test_detail_page_shows_the_row = None

    def test_a_missing_id_is_404(self, op_client, tenant):
        for name in ("routing:routingtarget_edit", "routing:routingtarget_delete"):
            assert op_client.get(reverse(name, args=[999999999])).status_code == 404
        missing_rule = reverse("routing:routingrule_targets", args=[999999999])
        assert op_client.get(missing_rule).status_code == 404

    def test_another_tenants_targets_page_is_404(self, op_client, tenant, other_tenant):
        theirs = RoutingRuleFactory(tenant=other_tenant)
        assert (
            op_client.get(reverse("routing:routingrule_targets", args=[theirs.pk])).status_code
            == 404
        )
        add = reverse("routing:routingtarget_add", args=[theirs.pk])
        assert op_client.post(add, self.add_data(tenant)).status_code == 404
        assert not theirs.targets.exists()

    def test_operator_edits_a_row(self, op_client, tenant):
        super().test_operator_edits_a_row(op_client, tenant)
        assert RoutingTarget.objects.get(rule=self.rule).weight == 7
