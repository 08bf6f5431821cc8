"""The tenant-wide Change log (SPEC §6): who changed what and when, across every kind."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import BalanceEntry, Customer
from routing.models import VMGateClient
from tests.factories import (
    CustomerFactory,
    NumberListEntryFactory,
    RoutingCheckFactory,
    ScheduleWindowFactory,
    SimSlotFactory,
    TranslationRuleFactory,
    TrunkNetworkFactory,
    build_route_world,
)
from vmgate.import_kinds import KINDS as IMPORT_KINDS
from vmgate.imports import run_import
from vmgate.models import ImportRun
from vmgate.views_changelog import KINDS, PAGE_SIZE

pytestmark = pytest.mark.django_db

URL = "/changes/"


def rows(response):
    """[(kind, object, action)] of the rendered log, in order."""
    html = response.content.decode()
    body = html.split('data-testid="changelog"', 1)[1]
    found = re.findall(
        r'<tr data-action="(\w+)">.*?<span class="text-muted small d-block">([^<]*)</span>'
        r"(?:<a [^>]*>)?([^<]*)",
        body,
        re.S,
    )
    return [(kind, obj.strip(), action) for action, kind, obj in found]


@pytest.fixture
def world(tenant):
    w = build_route_world(tenant)
    SimSlotFactory(client=w["gw_a"], position=1)
    RoutingCheckFactory(tenant=tenant, trunk=w["trunk"], name="AM check")
    BalanceEntry(customer=w["customer"], kind="payment", amount=Decimal("5")).save()
    run_import(tenant, IMPORT_KINDS["networks"], "gsm.csv", b"name\nImported\n", apply=True)
    # Routing policy: a set with a rule, a list with an entry, a schedule with a window.
    w["translation_rule"] = TranslationRuleFactory(translation_set__tenant=tenant)
    w["entry"] = NumberListEntryFactory(number_list__tenant=tenant)
    w["window"] = ScheduleWindowFactory(schedule__tenant=tenant)
    return w


def test_the_url_name_and_the_sidebar_link(op_client):
    assert reverse("vmgate:changelog") == URL
    assert f'href="{URL}"' in op_client.get("/").content.decode()


def test_login_is_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_kind_shows_with_who_what_and_when(op_client, operator, world):
    customer = world["customer"]
    customer._history_user = operator
    customer.name = "Carrier Two"
    customer.save()
    response = op_client.get(URL)
    assert response.status_code == 200
    shown = rows(response)
    kinds = {kind for kind, _, _ in shown}
    assert kinds == {k.label for k in KINDS}
    assert shown[0] == ("Customer", "Carrier Two", "changed")
    html = response.content.decode()
    first = html.split('<tr data-action="changed">', 1)[1].split("</tr>", 1)[0]
    assert "op-a" in first
    assert "Carrier" in first and "Carrier Two" in first  # name: old → new
    assert f'href="{customer.get_absolute_url()}"' in first
    assert ("Authorized IP", "203.0.113.0/24 of Carrier Two / in-1", "created") in shown


def test_a_deleted_object_keeps_its_rows_without_a_link(op_client, tenant, world):
    dialpeer = world["dialpeer"]
    url = dialpeer.get_absolute_url()
    dialpeer.delete()
    world["rule"].delete()  # its targets go with it: their rows stay, scoped through the rule
    response = op_client.get(URL)
    html = response.content.decode()
    shown = rows(response)
    assert ("Dialpeer", "AM", "deleted") in shown
    assert ("Routing rule", "374 — Armenia", "deleted") in shown
    assert [a for k, _, a in shown if k == "Routing target"].count("deleted") == 2
    assert f'href="{url}"' not in html


def test_children_of_a_deleted_parent_stay_in_the_log(op_client, tenant):
    customer = CustomerFactory(tenant=tenant)
    from tests.factories import TrunkFactory

    trunk = TrunkFactory(customer=customer, name="gone")
    TrunkNetworkFactory(trunk=trunk, network="198.51.100.7/32")
    trunk_id = trunk.pk
    trunk.delete()
    shown = rows(op_client.get(URL))
    gone = "198.51.100.7/32 of gone (deleted)"  # named from the trunk's last record
    assert f"#{trunk_id}" not in str(shown)
    assert ("Authorized IP", gone, "deleted") in shown
    assert ("Authorized IP", gone, "created") in shown


def test_another_tenants_changes_never_show(op_client, world, other_tenant, other_operator):
    CustomerFactory(tenant=other_tenant, name="Secret Co")
    theirs = build_route_world(other_tenant, plan_name="Their plan")
    theirs["customer"].name = "Their carrier"
    theirs["customer"].save()
    html = op_client.get(URL).content.decode()
    assert "Secret Co" not in html and "Their plan" not in html and "Their carrier" not in html
    # Their login is no choice of ours: the filter refuses it like an unknown one.
    for who in ("op-b", "nobody"):
        response = op_client.get(URL, {"who": who})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert rows(response) == []


def test_a_viewer_reads_it(viewer_client, world):
    assert viewer_client.get(URL).status_code == 200
    assert rows(viewer_client.get(URL))


def test_a_login_without_tenant_is_sent_to_the_admin(staff_client, world):
    response = staff_client.get(URL)
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_filters_by_kind_action_and_who(op_client, operator, world):
    customer = world["customer"]
    customer._history_user = operator
    customer.name = "Renamed"
    customer.save()
    world["dialpeer"].delete()
    assert {k for k, _, _ in rows(op_client.get(URL, {"kind": "customer"}))} == {"Customer"}
    assert {a for _, _, a in rows(op_client.get(URL, {"action": "deleted"}))} == {"deleted"}
    assert rows(op_client.get(URL, {"who": "op-a"})) == [("Customer", "Renamed", "changed")]
    response = op_client.get(URL, {"kind": "nonsense"})
    assert "Select a valid choice" in response.content.decode() and rows(response) == []


def test_pages_by_position_with_nothing_lost_or_repeated(op_client, tenant):
    for i in range(PAGE_SIZE + 15):
        CustomerFactory(tenant=tenant, name=f"C{i:03}")
    Customer.objects.filter(name="C000").get().delete()
    seen, url, pages = [], URL, 0
    while url:
        response = op_client.get(url)
        seen.extend(rows(response))
        pages += 1
        match = re.search(
            r'href="(\?[^"]*before=[^"]*)" data-testid="older"', response.content.decode()
        )
        url = URL + match.group(1).replace("&amp;", "&") if match else None
    assert pages == 2
    assert len(seen) == PAGE_SIZE + 15 + 1 == len(set(seen))
    assert seen[0] == ("Customer", "C000", "deleted")


@pytest.mark.parametrize(
    "before",
    [
        "garbage",
        "2026-01-01T00:00:00+00:00~nokind~1",
        "2026-01-01T00:00:00~customer~1",  # no time zone
        "x~y~z",
        "2026-01-01T00:00:00+00:00~customer~99999999999999999999999",
        "2026-01-01T00:00:00+00:00~customer~-1",
        "0001-01-01T00:00:00+14:00~customer~1",
        "2026-01-01T00:00:00+00:00~customer~1\x00",  # Django's own "Null characters…"
    ],
)
def test_a_bad_position_is_a_clear_error_not_a_500(op_client, world, before):
    response = op_client.get(URL, {"before": before})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not a position in the change log." in html or "Null characters are not allowed" in html
    assert rows(response) == []


def test_the_query_count_does_not_grow_with_the_log(op_client, tenant, world):
    """A page of every kind (changes diffed, links resolved) costs the same queries with a
    short log as with a long one."""
    from customers.models import Rate, Trunk, TrunkNetwork
    from dialpeers.models import Dialpeer
    from routing.models import Network, RoutingCheck, RoutingRule, RoutingTarget, SimSlot

    every_kind = [
        m.objects.filter(pk=pk).get
        for m, pk in [
            (Customer, world["customer"].pk),
            (Trunk, world["trunk"].pk),
            (TrunkNetwork, world["trunk"].networks.get().pk),
            (type(world["plan"]), world["plan"].pk),
            (Rate, world["plan"].rates.get().pk),
            (Network, world["gw_a"].network_id),
            (VMGateClient, world["gw_a"].pk),
            (SimSlot, world["gw_a"].slots.get().pk),
            (RoutingRule, world["rule"].pk),
            (RoutingTarget, world["rule"].targets.first().pk),
            (RoutingCheck, RoutingCheck.objects.get(tenant=tenant).pk),
            (Dialpeer, world["dialpeer"].pk),
            *[
                (type(row), row.pk)
                for row in (
                    world["translation_rule"].translation_set,
                    world["translation_rule"],
                    world["entry"].number_list,
                    world["entry"],
                    world["window"].schedule,
                    world["window"],
                )
            ],
        ]
    ]

    imported = iter(range(1000))

    def change_every_kind(times):
        for _ in range(times):
            for get in every_kind:
                get().save()
            csv = f"name\nImported {next(imported)}\n".encode()
            run_import(tenant, IMPORT_KINDS["networks"], "gsm.csv", csv, apply=True)
            # Balance entries are never changed: each movement is a new one.
            BalanceEntry(customer=world["customer"], kind="payment", amount=Decimal("1")).save()

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = op_client.get(URL)
        shown = rows(response)
        # Balance entries and imports are written once, never changed.
        assert {k for k, _, a in shown if a == "changed"} == {
            k.label for k in KINDS if k.model not in (BalanceEntry, ImportRun)
        }
        assert ("Balance entry", "Payment +1.00 for Carrier", "created") in shown
        return len(queries)

    change_every_kind(1)
    small = count()
    for _ in range(2 * PAGE_SIZE):
        CustomerFactory(tenant=tenant)
    change_every_kind(10)
    assert count() == small


@pytest.mark.parametrize("field", ["kind", "action", "who"])
def test_a_nul_or_overlong_filter_value_is_a_field_error(op_client, world, field):
    for value in ("op\x00a", "x" * 5000):
        response = op_client.get(URL, {field: value})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Select a valid choice" in html or "Null characters are not allowed" in html
        assert rows(response) == []


def test_an_import_is_one_entry_linking_its_page(op_client, operator, tenant):
    data = b"customer,name,tech_prefix,networks\n"
    f_customer = build_route_world(tenant)["customer"]
    data += f"{f_customer.name},in-2,77,192.0.2.0/24 192.0.2.128/25\n".encode()
    data += f"{f_customer.name},in-3,78,198.51.100.0/24\n".encode()
    result = run_import(
        tenant, IMPORT_KINDS["trunks"], "trunks.csv", data, apply=True, user=operator
    )
    assert result.applied, result.errors
    shown = rows(op_client.get(URL))
    assert shown[0] == ("Import", "Imported trunks.csv: 2 created", "created")
    # neither the trunks nor their authorized IPs appear one by one
    assert not [s for s in shown if "in-2" in s[1] or "in-3" in s[1]]
    run = ImportRun.objects.get()
    html = op_client.get(URL).content.decode()
    assert f'href="{reverse("vmgate:importrun_detail", args=[run.pk])}"' in html
    page = op_client.get(reverse("vmgate:importrun_detail", args=[run.pk]))
    assert "Imported trunks.csv: 2 created" in page.content.decode()
    # the trunk's own History tab keeps its record
    from customers.models import Trunk

    trunk = Trunk.objects.get(name="in-2")
    assert trunk.history.get().history_change_reason == run.reason
