"""VMGateClient.sip_uri follows RFC 3261's SIP-URI grammar, refused with a clear message on
every path that writes it: the model, the page form, the API and the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from routing.models import VMGateClient
from routing.sip_uri import validate_sip_uri
from tests.api.conftest import token_client
from tests.factories import NetworkFactory, VMGateClientFactory
from tests.routing.test_inventory_pages import client_data

GOOD = [
    "sip:10.8.0.12:5060",
    "sip:10.8.0.12",
    "sips:gw1.example.net;transport=tls",
    "SIP:GW.example.COM.",
    "sip:[2001:db8::1]:5061;lr",
    "sip:alice:secret@gw.example.com;maddr=10.0.0.1?subject=hi&priority=urgent",
    "sip:+374%2012;isub=1@gw.example.com",
    "sip:h:1",
    "sip:h:65535",
]
BAD = {
    "sip:10.8.0.12:5060\r\nX-Evil: 1": "line breaks",
    "sip:10.8.0.12:5060\nContact: <sip:x>": "line breaks",
    "sip:gw 1": "spaces",
    "sip:<gw>": "no <, >",
    "sip:gw>;x": "no <, >",
    "10.8.0.12:5060": "must start with sip: or sips:",
    "tel:+37412345": "must start with sip: or sips:",
    "sip:": "the host is missing",
    "sip:a@b@c": "at most one @",
    "sip:al ice@h": "spaces",
    "sip:al|ice@h": "user part",
    "sip:h:0": "port “0”",
    "sip:h:65536": "port “65536”",
    "sip:h:": "port “”",
    "sip:10.8.0.256": "not an IPv4 address",
    "sip:[2001:db8::zz]": "not an IPv6 address",
    "sip:2001:db8::1": "port",
    "sip:-gw.example": "not a host name",
    "sip:gw_1.example": "not a host name",
    "sip:h;=x": ";parameter",
    "sip:h?subject": "?headers",
    "sip:gw.exämple.com": "non-ASCII",
    "sip:١٠.8.0.1": "non-ASCII",
}


@pytest.mark.parametrize("value", GOOD)
def test_sip_uris_of_the_grammar_are_accepted(value):
    validate_sip_uri(value)


@pytest.mark.parametrize(("value", "reason"), BAD.items())
def test_anything_else_is_refused_saying_what_is_wrong(value, reason):
    with pytest.raises(ValidationError) as refused:
        validate_sip_uri(value)
    message = refused.value.messages[0]
    assert message.startswith("Not a valid SIP URI: ") and reason in message, message


@pytest.mark.django_db
def test_the_model_refuses_it_in_full_clean(tenant):
    client = VMGateClientFactory.build(network=NetworkFactory(tenant=tenant), tenant=tenant)
    client.sip_uri = "sip:10.8.0.12:5060\r\nX: y"
    with pytest.raises(ValidationError) as refused:
        client.full_clean()
    assert "line breaks" in refused.value.message_dict["sip_uri"][0]


@pytest.mark.django_db
def test_the_page_form_refuses_it_and_creates_nothing(op_client, tenant):
    network = NetworkFactory(tenant=tenant)
    response = op_client.post(
        reverse("routing:vmgateclient_add"), client_data(network, sip_uri="sip:gw>;<x")
    )
    assert response.status_code == 200
    assert "Not a valid SIP URI: no &lt;, &gt; or" in response.content.decode()
    assert not VMGateClient.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_it_with_a_field_error(operator, tenant):
    network = NetworkFactory(tenant=tenant)
    api = token_client(operator)
    body = {"name": "gw", "node_id": "n1", "network": network.pk, "sip_uri": "sip:gw\r\nX: y"}
    response = api.post("/api/v1/clients/", body, format="json")
    assert response.status_code == 400
    assert "line breaks" in response.json()["sip_uri"][0]
    body["sip_uri"] = "sip:gw.example.net:5070;transport=udp"
    assert api.post("/api/v1/clients/", body, format="json").status_code == 201
    client = VMGateClient.objects.get()
    response = api.patch(f"/api/v1/clients/{client.pk}/", {"sip_uri": "sip:h:99999"}, format="json")
    assert response.status_code == 400 and "1–65535" in response.json()["sip_uri"][0]
    client.refresh_from_db()
    assert client.sip_uri == "sip:gw.example.net:5070;transport=udp"


@pytest.mark.django_db
def test_the_admin_refuses_it(staff_client, tenant):
    network = NetworkFactory(tenant=tenant)
    response = staff_client.post(
        reverse("admin:routing_vmgateclient_add"),
        {
            "tenant": tenant.pk,
            "network": network.pk,
            "name": "gw",
            "node_id": "n1",
            "status": "ready",
            "active_calls": 0,
            "sip_uri": "sip:10.8.0.12:5060 <sip:evil>",
            "slots-TOTAL_FORMS": 0,
            "slots-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Not a valid SIP URI" in response.content.decode()
    assert not VMGateClient.objects.exists()
