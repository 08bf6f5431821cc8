"""Concurrent writers of trunks (one thread and connection each, released by a barrier):
"overlapping networks never share a tech prefix within a tenant" holds whichever path
writes — the operator form, the API, the admin, an import or all at once — for creates, tech-prefix
edits and network edits. Exactly one write wins; every other is refused naming the winning
trunk and its customer; nothing answers 5xx.

The exclusion constraint that decides is PostgreSQL's (customers/ingress_guard.py): these
run where DATABASE_URL is PostgreSQL, as CI does. SQLite, the zero-setup default, has no
address type to constrain on and is kept correct for a single writer (validation)."""

import os
from functools import partial

import pytest
from django.urls import reverse

from customers.models import Trunk, TrunkNetwork
from tests.customers.test_trunk_pages import edit_data, trunk_data
from tests.factories import CustomerFactory, TrunkFactory, TrunkNetworkFactory
from tests.race import (
    RACERS,
    admin_call,
    api_call,
    api_client,
    assert_one_winner,
    fire_at_once,
    form_call,
    import_call,
    session_client,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the overlap constraint is PostgreSQL's; SQLite is correct for one writer",
    ),
]

IP = "192.0.2.181/32"
PATHS = {
    "api": ["api"] * RACERS,
    "form": ["form"] * RACERS,
    "admin": ["admin"] * RACERS,
    "import": ["import"] * RACERS,
    "mixed": ["api", "form", "admin", "import"] * 4,
}


def names_winner(winner):
    return f"of trunk “{winner.name}” (customer “{winner.customer.name}”), which has the same"


def admin_trunk_data(trunk_or_customer, rows, **over):
    """The admin's change form: the trunk's fields plus its inline networks."""
    is_trunk = isinstance(trunk_or_customer, Trunk)
    customer = trunk_or_customer.customer if is_trunk else trunk_or_customer
    data = {
        "tenant": customer.tenant_id,
        "customer": customer.pk,
        "name": trunk_or_customer.name if is_trunk else "sbc",
        "tech_prefix": trunk_or_customer.tech_prefix if is_trunk else "810",
        "rate_plan": "",
        "max_concurrent_calls": 10,
        "codecs": '["PCMA"]',
        "status": "active",
        "networks-TOTAL_FORMS": len(rows),
        "networks-INITIAL_FORMS": sum(1 for pk, _ in rows if pk),
        "networks-MIN_NUM_FORMS": 0,
        "networks-MAX_NUM_FORMS": 1000,
    }
    for i, (pk, net) in enumerate(rows):
        data[f"networks-{i}-network"] = net
        if pk:
            data[f"networks-{i}-id"] = pk
            data[f"networks-{i}-trunk"] = trunk_or_customer.pk
    data.update(over)
    return data


@pytest.mark.parametrize("paths", PATHS.values(), ids=PATHS.keys())
def test_concurrent_creates_of_one_address_and_prefix_store_one_trunk(
    tenant, operator, staff_user, paths
):
    customers = [CustomerFactory(tenant=tenant, name=f"Carrier {i}") for i in range(4)]
    calls = []
    for i, path in enumerate(paths):
        customer, name = customers[i % 4], f"sbc-{i}"
        if path == "api":
            body = {"customer": customer.pk, "name": name, "tech_prefix": "810", "networks": [IP]}
            calls.append(partial(api_call, api_client(operator), "post", "/api/v1/trunks/", body))
        elif path == "form":
            data = trunk_data(customer, "192.0.2.181", name=name, tech_prefix="810")
            calls.append(
                partial(form_call, session_client(operator), reverse("customers:trunk_add"), data)
            )
        elif path == "import":
            text = f"customer,name,tech_prefix,networks\n{customer.name},{name},810,{IP}\n"
            calls.append(partial(import_call, tenant, "trunks", text, operator))
        else:
            data = admin_trunk_data(customer, [(None, "192.0.2.181")], name=name)
            url = reverse("admin:customers_trunk_add")
            calls.append(partial(admin_call, session_client(staff_user), url, data))
    outcomes = fire_at_once(calls)
    winner = Trunk.objects.select_related("customer").get()  # refused creates left nothing
    assert list(winner.networks.values_list("network", flat=True)) == [IP]
    assert_one_winner(outcomes, names_winner(winner))


def overlapping_trunks(tenant, *, same_prefix):
    """RACERS trunks: with IP each and their own prefixes (to be changed to 810), or with
    their own addresses and prefix 810 (to be changed to IP)."""
    trunks = []
    for i in range(RACERS):
        trunk = TrunkFactory(
            customer=CustomerFactory(tenant=tenant, name=f"Carrier {i}"),
            name=f"sbc-{i}",
            tech_prefix="810" if same_prefix else f"9{i:02d}",
        )
        TrunkNetworkFactory(trunk=trunk, network=f"198.51.100.{i}/32" if same_prefix else IP)
        trunks.append(trunk)
    return trunks


@pytest.mark.parametrize("paths", [PATHS["mixed"]], ids=["mixed"])
def test_concurrent_tech_prefix_edits_leave_one_trunk_with_the_address(
    tenant, operator, staff_user, paths
):
    trunks = overlapping_trunks(tenant, same_prefix=False)
    calls = []
    for trunk, path in zip(trunks, paths, strict=True):
        net = trunk.networks.get()
        if path == "api":
            url = f"/api/v1/trunks/{trunk.pk}/"
            calls.append(
                partial(api_call, api_client(operator), "patch", url, {"tech_prefix": "810"})
            )
        elif path == "form":
            url = reverse("customers:trunk_edit", args=[trunk.pk])
            data = edit_data(trunk, [(net.pk, IP, False)], tech_prefix="810")
            calls.append(partial(form_call, session_client(operator), url, data))
        elif path == "import":
            text = f"customer,name,tech_prefix\n{trunk.customer.name},{trunk.name},810\n"
            calls.append(partial(import_call, tenant, "trunks", text, operator))
        else:
            url = reverse("admin:customers_trunk_change", args=[trunk.pk])
            data = admin_trunk_data(trunk, [(net.pk, IP)], tech_prefix="810")
            calls.append(partial(admin_call, session_client(staff_user), url, data))
    outcomes = fire_at_once(calls)
    winner = Trunk.objects.select_related("customer").get(tech_prefix="810")
    assert_one_winner(outcomes, names_winner(winner))


@pytest.mark.parametrize("paths", [PATHS["mixed"]], ids=["mixed"])
def test_concurrent_network_edits_leave_one_trunk_with_the_address(
    tenant, operator, staff_user, paths
):
    trunks = overlapping_trunks(tenant, same_prefix=True)
    calls = []
    for trunk, path in zip(trunks, paths, strict=True):
        net = trunk.networks.get()
        if path == "api":
            url = f"/api/v1/trunks/{trunk.pk}/"
            calls.append(partial(api_call, api_client(operator), "patch", url, {"networks": [IP]}))
        elif path == "form":
            url = reverse("customers:trunk_edit", args=[trunk.pk])
            data = edit_data(trunk, [(net.pk, IP, False)])
            calls.append(partial(form_call, session_client(operator), url, data))
        elif path == "import":
            text = f"customer,name,networks\n{trunk.customer.name},{trunk.name},{IP}\n"
            calls.append(partial(import_call, tenant, "trunks", text, operator))
        else:
            url = reverse("admin:customers_trunk_change", args=[trunk.pk])
            data = admin_trunk_data(trunk, [(net.pk, IP)])
            calls.append(partial(admin_call, session_client(staff_user), url, data))
    outcomes = fire_at_once(calls)
    holders = TrunkNetwork.objects.filter(network=IP)
    assert holders.count() == 1
    winner = Trunk.objects.select_related("customer").get(networks__network=IP)
    assert_one_winner(outcomes, names_winner(winner))
