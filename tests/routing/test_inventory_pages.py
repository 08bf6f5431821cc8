"""Networks and VMGateClients pages: counts, filters, slots in the client form, refusals."""

import re

import pytest
from django.urls import reverse

from routing.models import Network, VMGateClient
from tests.factories import (
    NetworkFactory,
    RoutingTargetFactory,
    SimSlotFactory,
    VMGateClientFactory,
)

pytestmark = pytest.mark.django_db


def client_data(network, **over):
    data = {
        "name": "gw-1",
        "node_id": "node-1",
        "network": network.pk,
        "status": "ready",
        "active_calls": "0",
        "sip_uri": "sip:10.8.0.12:5060",
        "slots-TOTAL_FORMS": "2",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "8",
        "slots-0-position": "1",
        "slots-0-enabled": "on",
        "slots-1-position": "2",
        "slots-1-enabled": "on",
    }
    data.update(over)
    return data


def test_network_list_counts_clients_and_ready_clients(op_client, tenant):
    network = NetworkFactory(tenant=tenant, name="Yerevan")
    VMGateClientFactory(network=network)
    VMGateClientFactory(network=network, status=VMGateClient.OFF)
    body = op_client.get(reverse("routing:network_list")).content.decode()
    row = re.search(r"<tr.*?Yerevan.*?</tr>", body, re.S).group(0)
    assert re.findall(r'class="text-end">(\d+)<', row) == ["2", "1"]


def test_a_network_with_clients_or_targets_cannot_be_deleted(op_client, tenant):
    used = VMGateClientFactory(network__tenant=tenant).network
    target = RoutingTargetFactory(
        rule__tenant=tenant, client=None, network=NetworkFactory(tenant=tenant)
    )
    for network in (used, target.network):
        url = reverse("routing:network_delete", args=[network.pk])
        assert 'data-testid="delete-refusal"' in op_client.get(url).content.decode()
        op_client.post(url)
        assert Network.objects.filter(pk=network.pk).exists()


def test_a_client_used_by_a_target_cannot_be_deleted_naming_the_rule(op_client, tenant):
    direct = RoutingTargetFactory(rule__tenant=tenant, rule__code="374")
    slot = SimSlotFactory(client__network__tenant=tenant)
    RoutingTargetFactory(rule__tenant=tenant, rule__code="39", client=None, sim_slot=slot)
    for client, rule_text in ((direct.client, "374"), (slot.client, "39")):
        url = reverse("routing:vmgateclient_delete", args=[client.pk])
        page = op_client.get(url).content.decode()
        assert 'data-testid="delete-refusal"' in page and rule_text in page
        op_client.post(url)
        assert VMGateClient.objects.filter(pk=client.pk).exists()
    body = op_client.get(reverse("routing:vmgateclient_list")).content.decode()
    assert "Used by 1 routing target." in body


def test_a_client_on_another_tenants_network_is_refused(op_client, tenant, other_tenant):
    theirs = NetworkFactory(tenant=other_tenant)
    response = op_client.post(reverse("routing:vmgateclient_add"), client_data(theirs))
    assert "Select a valid choice" in str(response.context["form"].errors["network"])
    assert not VMGateClient.objects.filter(tenant=tenant).exists()


def test_two_slots_at_one_position_are_refused(op_client, tenant):
    network = NetworkFactory(tenant=tenant)
    response = op_client.post(
        reverse("routing:vmgateclient_add"), client_data(network, **{"slots-1-position": "1"})
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Each position may appear once." in body
    assert "This position is already listed above." in body
    assert not VMGateClient.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize("position", ["0", "9", "x"])
def test_slot_positions_are_1_to_8(op_client, tenant, position):
    network = NetworkFactory(tenant=tenant)
    response = op_client.post(
        reverse("routing:vmgateclient_add"),
        client_data(network, **{"slots-1-position": position}),
    )
    assert response.status_code == 200
    assert not VMGateClient.objects.filter(tenant=tenant).exists()


def test_a_slot_is_removed_from_the_client_form(op_client, tenant):
    client = VMGateClientFactory(network__tenant=tenant)
    s1 = SimSlotFactory(client=client, position=1)
    s2 = SimSlotFactory(client=client, position=2)
    data = client_data(
        client.network,
        name=client.name,
        node_id=client.node_id,
        **{
            "slots-INITIAL_FORMS": "2",
            "slots-0-id": s1.pk,
            "slots-1-id": s2.pk,
            "slots-1-DELETE": "on",
        },
    )
    response = op_client.post(reverse("routing:vmgateclient_edit", args=[client.pk]), data)
    assert response.status_code == 302
    assert list(client.slots.values_list("position", flat=True)) == [1]


def test_client_list_filters_by_network_status_and_search(op_client, tenant):
    north = NetworkFactory(tenant=tenant)
    a = VMGateClientFactory(network=north, name="gw-alpha", node_id="n-a")
    b = VMGateClientFactory(network__tenant=tenant, name="gw-beta", node_id="n-b", status="off")
    url = reverse("routing:vmgateclient_list")

    def names(**params):
        body = op_client.get(url, params).content.decode()
        return {
            c.name for c in (a, b) if reverse("routing:vmgateclient_detail", args=[c.pk]) in body
        }

    assert names(network=north.pk) == {"gw-alpha"}
    assert names(status="off") == {"gw-beta"}
    assert names(q="n-b") == {"gw-beta"}
    assert op_client.get(url, {"q": "\x00"}).status_code == 200
    assert op_client.get(url, {"network": "abc"}).status_code == 200


def test_the_client_form_renders_one_network_option_however_many_exist(op_client, tenant):
    Network.objects.bulk_create(Network(tenant=tenant, name=f"net-{i}") for i in range(30))
    body = op_client.get(reverse("routing:vmgateclient_add")).content.decode()
    select = re.search(r'<select name="network".*?</select>', body, re.S).group(0)
    assert select.count("<option") == 1
