"""Bulk import (SPEC §8): every kind's export imports back as a no-op; the modes add, update
and replace; rows go through the page's own form (an import refuses what the form refuses,
with its message); all or nothing; tenancy; the routing checks an import would change."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer, Rate, Trunk, TrunkNetwork
from dialpeers.models import Dialpeer
from routing.models import Network, RoutingRule, RoutingTarget, SimSlot, VMGateClient
from tests import factories as f
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db

# kind → (list URL name, model) whose export the kind reads
EXPORTS = {
    "customers": "customers:customer_list",
    "trunks": "customers:trunk_list",
    "rates": "customers:rate_list",
    "networks": "routing:network_list",
    "clients": "routing:vmgateclient_list",
    "rules": "routing:routingrule_list",
    "targets": "routing:routingrule_list",
    "dialpeers": "dialpeers:dialpeer_list",
}


def csv_bytes(rows, delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerows(rows)
    return out.getvalue().encode()


def export(client, url, what="csv"):
    response = client.get(url, {"export": what})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def world(tenant):
    """A bit of every kind, with the awkward cases: a scoped rule, a trunk with two
    networks, a client with slots, a prepaid and a postpaid customer."""
    w = f.build_route_world(tenant)
    f.CustomerFactory(
        tenant=tenant, name="Post", billing_type=Customer.POSTPAID, credit_limit=Decimal("50")
    )
    TrunkNetwork.objects.create(trunk=w["trunk"], network="198.51.100.7/32")
    SimSlot.objects.create(client=w["gw_a"], position=1, label="=SUM(A1)")
    SimSlot.objects.create(client=w["gw_a"], position=2, enabled=False)
    scoped = f.RoutingRuleFactory(tenant=tenant, code="37491", trunk=w["trunk"])
    f.RoutingTargetFactory(rule=scoped, client=None, network=w["gw_a"].network, priority=3)
    f.RoutingTargetFactory(rule=scoped, client=None, sim_slot=w["gw_a"].slots.get(position=2))
    f.DialpeerFactory(trunk=w["trunk"], customer=w["customer"], rule=scoped, name="=cmd")
    f.RoutingRuleFactory(tenant=tenant, code="", label="Anything")
    return w


def snapshot(tenant):
    """Every row the import kinds write, as plain values (ids included: a no-op keeps them)."""
    return {
        "customers": list(Customer.objects.filter(tenant=tenant).order_by("pk").values()),
        "trunks": list(Trunk.objects.filter(tenant=tenant).order_by("pk").values()),
        "networks": list(TrunkNetwork.objects.filter(trunk__tenant=tenant).order_by("pk").values()),
        "rates": list(Rate.objects.filter(rate_plan__tenant=tenant).order_by("pk").values()),
        "gsm": list(Network.objects.filter(tenant=tenant).order_by("pk").values()),
        "clients": list(VMGateClient.objects.filter(tenant=tenant).order_by("pk").values()),
        "slots": list(SimSlot.objects.filter(client__tenant=tenant).order_by("pk").values()),
        "rules": list(RoutingRule.objects.filter(tenant=tenant).order_by("pk").values()),
        "targets": list(RoutingTarget.objects.filter(rule__tenant=tenant).order_by("pk").values()),
        "dialpeers": list(Dialpeer.objects.filter(tenant=tenant).order_by("pk").values()),
    }


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_export_then_import_changes_nothing(kind, op_client, tenant, operator):
    w = world(tenant)
    args = [w["plan"].pk] if kind == "rates" else []
    data = export(
        op_client, reverse(EXPORTS[kind], args=args), "targets" if kind == "targets" else "csv"
    )
    before = snapshot(tenant)
    result = run_import(
        tenant, KINDS[kind], f"{kind}.csv", data, rate_plan=w["plan"], apply=True, user=operator
    )
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["create"] == result.counts["update"] == result.counts["delete"] == 0
    assert result.counts["unchanged"] >= 1
    assert snapshot(tenant) == before
    # replace with the whole export deletes nothing either
    result = run_import(
        tenant, KINDS[kind], f"{kind}.csv", data, mode="replace", rate_plan=w["plan"], apply=True
    )
    assert result.ok, (result.file_error, result.errors)
    assert result.counts["delete"] == 0
    assert snapshot(tenant) == before


def test_rates_modes_and_the_change_log_entry(tenant, operator):
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    f.RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    f.RateFactory(rate_plan=plan, code="375", rate_per_min=Decimal("0.2"))
    since = "2026-01-01T00:00:00+00:00"
    deck = csv_bytes(
        [
            ["code", "rate_per_min", "valid_since"],
            ["374", "0.15", since],
            ["0093", "0.3", since],
        ]
    )
    kind = KINDS["rates"]
    preview = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan)
    assert preview.ok and not preview.applied
    assert preview.counts == {"create": 1, "update": 1, "delete": 0, "unchanged": 0}
    assert Rate.objects.filter(rate_plan=plan).count() == 2  # a preview writes nothing
    change = preview.rows["update"][0]
    assert change.changes == [("rate_per_min", "0.100000", "0.15")]

    added = run_import(tenant, kind, "deck.csv", deck, mode="add", rate_plan=plan)
    assert not added.ok
    assert added.errors == [
        (
            2,
            "code",
            "Rate 374 from 2026-01-01T00:00:00+00:00 already exists (mode add creates only).",
        )
    ]

    applied = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan, apply=True, user=operator)
    assert applied.applied
    rates = {r.code: r for r in Rate.objects.filter(rate_plan=plan)}
    assert rates["374"].rate_per_min == Decimal("0.15")
    assert rates["0093"].rate_per_min == Decimal("0.3")  # leading zeros kept
    assert rates["374"].description == "Armenia"  # an empty description: the dialplan's
    run = ImportRun.objects.get(tenant=tenant)
    assert run.summary == "Imported deck.csv: 1 created, 1 updated"
    assert run.user == operator

    again = run_import(tenant, kind, "deck.csv", deck, rate_plan=plan, apply=True)
    assert again.counts == {"create": 0, "update": 0, "delete": 0, "unchanged": 2}

    replaced = run_import(
        tenant, kind, "deck.csv", deck, mode="replace", rate_plan=plan, apply=True
    )
    assert replaced.counts["delete"] == 1
    assert sorted(Rate.objects.filter(rate_plan=plan).values_list("code", flat=True)) == [
        "0093",
        "374",
    ]
    # one history record per row written, as a save or delete on the page writes
    [deleted] = Rate.history.filter(code="375", history_type="-")
    assert deleted.history_change_reason.startswith("import:")
    updated = Rate.history.filter(code="374", history_type="~").get()
    assert updated.rate_per_min == Decimal("0.15") and updated.history_user == operator


def test_an_error_on_the_last_row_writes_nothing(tenant):
    data = csv_bytes(
        [["name", "country", "billing_type"]]
        + [[f"Carrier {i}", "AM", "prepaid"] for i in range(20)]
        + [["Broken", "XX", "prepaid"]]
    )
    result = run_import(tenant, KINDS["customers"], "c.csv", data, apply=True)
    assert not result.ok and not result.applied
    assert [(line, column) for line, column, _ in result.errors] == [(22, "country")]
    assert "Select a valid choice" in result.errors[0][2]  # the form's own message
    assert not Customer.objects.filter(tenant=tenant).exists()
    assert not ImportRun.objects.exists()


def test_a_name_of_another_tenant_is_not_found(tenant, other_tenant):
    f.CustomerFactory(tenant=other_tenant, name="Theirs")
    data = csv_bytes([["customer", "name", "networks"], ["Theirs", "in", "192.0.2.1"]])
    result = run_import(tenant, KINDS["trunks"], "t.csv", data, apply=True)
    assert result.errors == [(2, "customer", "Customer “Theirs” not found.")]
    assert not Trunk.objects.exists()


def test_a_deactivated_rule_names_the_check_that_stops_routing(tenant):
    w = f.build_route_world(tenant)
    check = f.armenia_mobile_check(w)
    f.RoutingCheckFactory(
        trunk=w["trunk"], name="Unrelated", called_number="994411", expected_outcome="rejected"
    )
    data = csv_bytes([["code", "trunk", "is_active"], ["374", "", "false"]])
    result = run_import(tenant, KINDS["rules"], "rules.csv", data)
    assert result.ok, result.errors
    assert result.counts["update"] == 1
    [changed] = result.check_changes
    assert (changed.check_id, changed.name) == (check.pk, "Armenia mobile")
    assert changed.before.startswith("routed via 374")
    assert changed.after.startswith("Rejected: no route")
    assert changed.passed_before and not changed.passed_after
    assert RoutingRule.objects.get(pk=w["rule"].pk).is_active  # a preview


# --- bad input: a clear message, nothing written ------------------------------------------


def rates_of(tenant, content, name="deck.csv", **kwargs):
    plan = f.RatePlanFactory(tenant=tenant)
    return run_import(tenant, KINDS["rates"], name, content, rate_plan=plan, apply=True, **kwargs)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "code,valid_since,rate_per_min\n374,2026-01-01,0.1\n".encode("utf-16"),
            "The file is not UTF-8 text",
        ),
        (b"", "The file is empty"),
        (b"code,valid_since,rate_per_min\n", "The file has a header but no rows."),
        (b"code,valid_since\n374,2026-01-01\n", "missing column(s) rate_per_min"),
        (
            b"code,valid_since,rate_per_min,colour\n374,2026-01-01,0.1,red\n",
            "unknown column(s) colour",
        ),
        (
            b"code,code,valid_since,rate_per_min\n374,374,2026-01-01,0.1\n",
            "column(s) named twice: code",
        ),
        (b'code,valid_since,rate_per_min\n"374,2026-01-01,0.1\n', "the CSV cannot be read"),
        (b"PK\x03\x04 not really a workbook", "not a readable XLSX workbook"),
    ],
    ids=[
        "utf16",
        "empty",
        "no-rows",
        "missing-column",
        "unknown-column",
        "column-twice",
        "unclosed-quote",
        "broken-xlsx",
    ],
)
def test_a_bad_file_is_refused_as_a_whole(tenant, content, message):
    result = rates_of(tenant, content)
    assert not result.ok and not result.applied
    assert message in result.file_error
    assert not Rate.objects.exists() and not ImportRun.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tenant, monkeypatch):
    from vmgate import imports

    result = rates_of(tenant, b"code,valid_since,rate_per_min\n" + b"1" * imports.MAX_BYTES)
    assert "the limit is 20 MB" in result.file_error


@pytest.mark.parametrize(
    "cell, message",
    [
        ("3.74E+02", "looks like a number a spreadsheet converted"),
        ("374.0", "looks like a number a spreadsheet converted"),
        ('=HYPERLINK("http://x","374")', "starts like a spreadsheet formula"),
        ("37a", "Use 0–15 digits"),
    ],
)
def test_a_code_a_spreadsheet_mangled_is_an_error_never_fixed(tenant, cell, message):
    content = csv_bytes([["code", "valid_since", "rate_per_min"], [cell, "2026-01-01", "0.1"]])
    result = rates_of(tenant, content)
    assert [(line, column) for line, column, _ in result.errors] == [(2, "code")]
    assert message in result.errors[0][2]
    assert not Rate.objects.exists()


def test_leading_zeros_semicolons_tabs_and_a_bom_are_read(tenant):
    for delimiter in (";", "\t", ","):
        content = "\ufeff" + delimiter.join(["code", "valid_since", "rate_per_min"]) + "\n"
        content += delimiter.join(
            ["0093", "2026-01-01 00:00", "0,1" if delimiter == ";" else "0.1"]
        )
        content += "\n"
        plan = f.RatePlanFactory(tenant=tenant)
        result = run_import(
            tenant, KINDS["rates"], "d.csv", content.encode(), rate_plan=plan, apply=True
        )
        if delimiter == ";":  # a decimal comma is the form's error, not silently read
            assert result.errors[0][1] == "rate_per_min"
            continue
        assert result.ok, (delimiter, result.errors, result.file_error)
        assert plan.rates.get().code == "0093"


def test_duplicate_keys_in_the_file_name_the_first_line(tenant):
    content = csv_bytes([["name"], ["Yerevan"], ["Gyumri"], ["Yerevan"]])
    result = run_import(tenant, KINDS["networks"], "n.csv", content, apply=True)
    assert result.errors == [
        (4, "name", "Line 2 already has network Yerevan: each network once per file.")
    ]
    assert not Network.objects.exists()


def test_a_formula_in_a_text_field_is_refused_and_an_exported_one_is_read_back(tenant):
    payload = "=cmd|' /C calc'!A0"
    result = run_import(tenant, KINDS["networks"], "n.csv", csv_bytes([["name"], [payload]]))
    assert result.errors[0][1] == "name" and "spreadsheet formula" in result.errors[0][2]
    for bad_cell in ("+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|x", "- a"):
        bad = run_import(tenant, KINDS["networks"], "n.csv", csv_bytes([["name"], [bad_cell]]))
        assert "spreadsheet formula" in bad.errors[0][2], bad_cell
    # a phone number or a signed number is text, not a formula
    phones = csv_bytes([["name", "country", "phone"], ["Carrier", "AM", "+374 10 123456"]])
    result = run_import(tenant, KINDS["customers"], "c.csv", phones, apply=True)
    assert result.ok, result.errors
    assert Customer.objects.get().phone == "+374 10 123456"
    # the export writes it with a leading quote; the import reads the text back
    result = run_import(
        tenant, KINDS["networks"], "n.csv", csv_bytes([["name"], ["'" + payload]]), apply=True
    )
    assert result.ok and Network.objects.get().name == payload


def test_xlsx_rows_numbers_and_formulas(tenant):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "valid_since", "rate_per_min"])
    sheet.append(["0374", "2026-01-01", 0.25])
    sheet.append([375, "2026-01-01", 0.3])  # a code stored as a number
    sheet.append(["376", "2026-01-01", "=0.1*2"])
    out = io.BytesIO()
    book.save(out)
    result = rates_of(tenant, out.getvalue(), name="deck.xlsx")
    assert [(line, column) for line, column, _ in result.errors] == [
        (3, "code"),
        (4, "rate_per_min"),
    ]
    assert "stored as a number" in result.errors[0][2]
    assert "is a formula" in result.errors[1][2]
    sheet.delete_rows(3, 2)
    out = io.BytesIO()
    book.save(out)
    result = rates_of(tenant, out.getvalue(), name="deck.xlsx")
    assert result.ok, result.errors
    assert Rate.objects.get().code == "0374"


def test_booleans_read_the_words_spec_lists_and_nothing_else(tenant):
    w = f.build_route_world(tenant)
    for word, expected in (("no", False), ("1", True), ("FALSE", False), ("yes", True)):
        content = csv_bytes([["code", "is_active"], ["374", word]])
        result = run_import(tenant, KINDS["rules"], "r.csv", content, apply=True)
        assert result.ok, result.errors
        assert RoutingRule.objects.get(pk=w["rule"].pk).is_active is expected
    result = run_import(
        tenant, KINDS["rules"], "r.csv", csv_bytes([["code", "is_active"], ["374", "maybe"]])
    )
    assert result.errors == [(2, "is_active", "“maybe”: Enter true or false (or 1/0, yes/no).")]


def test_an_import_refuses_what_the_form_refuses(tenant):
    """The overlap rule (authorized networks of two trunks with one tech prefix) and the
    same-code rule (one active dialpeer per code on a trunk), through the import."""
    w = f.build_route_world(tenant)
    content = csv_bytes(
        [["customer", "name", "tech_prefix", "networks"], ["Carrier", "in-2", "99", "203.0.113.5"]]
    )
    result = run_import(tenant, KINDS["trunks"], "t.csv", content, apply=True)
    assert result.errors and result.errors[0][1] == "networks"
    assert "203.0.113.0/24" in result.errors[0][2]
    other = f.RoutingRuleFactory(tenant=tenant, code="374", trunk=w["trunk"])
    content = csv_bytes(
        [
            ["name", "customer", "trunk", "rule", "rule_id"],
            ["twin", "Carrier", "in-1", "374", str(other.pk)],
        ]
    )
    result = run_import(tenant, KINDS["dialpeers"], "d.csv", content, apply=True)
    assert result.errors == [(2, "rule", "Dialpeer “AM” already routes code 374 on trunk “in-1”.")]
    ambiguous = run_import(
        tenant,
        KINDS["dialpeers"],
        "d.csv",
        csv_bytes([["name", "customer", "trunk", "rule"], ["twin", "Carrier", "in-1", "374"]]),
    )
    assert "add a rule_id column" in ambiguous.errors[0][2]
    assert Dialpeer.objects.count() == 1 and Trunk.objects.count() == 1


def test_replace_deletes_absent_rows_unless_something_protects_them(tenant):
    w = f.build_route_world(tenant)
    f.NetworkFactory(tenant=tenant, name="Spare")
    result = run_import(
        tenant,
        KINDS["networks"],
        "n.csv",
        csv_bytes([["name"], ["New"]]),
        mode="replace",
        apply=True,
    )
    assert not result.ok
    [(line, column, message)] = result.errors
    assert (line, column) == (None, "")
    assert message.startswith("Not deleted: “Yerevan” is still used by ")
    assert str(w["gw_a"]) in message and str(w["gw_b"]) in message
    assert Network.objects.filter(name="Spare").exists()  # all or nothing
    content = csv_bytes([["name"], ["Yerevan"], ["New"]])
    result = run_import(tenant, KINDS["networks"], "n.csv", content, mode="replace", apply=True)
    assert result.ok and result.counts["delete"] == 1 and result.counts["create"] == 1
    assert sorted(Network.objects.values_list("name", flat=True)) == ["New", "Yerevan"]


def test_an_error_names_the_first_line_of_a_row_whose_cell_spans_lines(tenant):
    content = b'name,country\n"Be\nta",XX\nGamma,ZZ\n'
    result = run_import(tenant, KINDS["customers"], "c.csv", content)
    assert [(line, column) for line, column, _ in result.errors] == [(2, "country"), (4, "country")]


def test_each_rate_row_is_judged_alone(tenant):
    """One form validates every row of a deck (RateImportForm.rebind): a row's errors and
    values never leak into the next."""
    content = csv_bytes(
        [
            ["code", "valid_since", "rate_per_min", "description"],
            ["374", "2026-01-01", "-1", "bad price"],
            ["375", "2026-01-01", "0.2", ""],
            ["37x", "2026-01-01", "0.3", "bad code"],
            ["376", "2026-01-01", "0.4", "fine"],
        ]
    )
    result = rates_of(tenant, content)
    assert [(line, column) for line, column, _ in result.errors] == [
        (2, "rate_per_min"),
        (4, "code"),
    ]
    assert result.counts["create"] == 2
    created = {r.label: r.changes for r in result.rows["create"]}
    assert ("description", "", "fine") in created["376 from 2026-01-01"]
    assert ("rate_per_min", "", "0.2") in created["375 from 2026-01-01"]
    assert not Rate.objects.exists()


def test_replace_refuses_to_delete_what_the_delete_page_refuses_with_its_words(tenant):
    w = f.build_route_world(tenant)
    content = csv_bytes(
        [["customer", "name", "tech_prefix", "networks"], ["Carrier", "in-2", "88", "192.0.2.0/24"]]
    )
    result = run_import(tenant, KINDS["trunks"], "t.csv", content, mode="replace", apply=True)
    assert result.errors == [
        (None, "", "Not deleted: Trunk “in-1” is used by 1 dialpeer; remove those first.")
    ]
    assert Trunk.objects.get(name="in-1") == w["trunk"]
    assert not Trunk.objects.filter(name="in-2").exists()  # all or nothing


def test_a_trunks_networks_and_a_clients_slots_become_the_files_list(tenant):
    w = world(tenant)  # in-1 has 203.0.113.0/24 and 198.51.100.7/32; gw-a slots 1 and 2
    content = csv_bytes(
        [["customer", "name", "networks"], ["Carrier", "in-1", "198.51.100.7 192.0.2.0/24"]]
    )
    result = run_import(tenant, KINDS["trunks"], "t.csv", content, apply=True)
    assert result.ok, result.errors
    [change] = result.rows["update"]
    [(column, old, new)] = change.changes
    assert column == "networks"
    assert sorted(old.split()) == ["198.51.100.7/32", "203.0.113.0/24"]
    assert sorted(new.split()) == ["192.0.2.0/24", "198.51.100.7/32"]
    assert sorted(w["trunk"].networks.values_list("network", flat=True)) == [
        "192.0.2.0/24",
        "198.51.100.7/32",
    ]
    slots = '[{"position":2,"enabled":true,"label":"now on"},{"position":3,"enabled":false}]'
    content = csv_bytes([["node_id", "slots"], [w["gw_a"].node_id, slots]])
    result = run_import(tenant, KINDS["clients"], "c.csv", content, apply=True)
    assert result.ok, result.errors
    assert list(
        w["gw_a"].slots.order_by("position").values_list("position", "enabled", "label")
    ) == [
        (2, True, "now on"),
        (3, False, ""),
    ]


def test_a_trunk_name_two_customers_share_needs_the_customer_column(tenant):
    f.build_route_world(tenant)  # Carrier / in-1
    f.TrunkFactory(customer=f.CustomerFactory(tenant=tenant, name="Other"), name="in-1")
    content = csv_bytes([["code", "trunk", "customer"], ["37499", "in-1", ""]])
    result = run_import(tenant, KINDS["rules"], "r.csv", content, apply=True)
    assert result.errors == [
        (2, "customer", "2 customers have a trunk “in-1”: say whose in the customer column.")
    ]
    content = csv_bytes([["code", "trunk", "customer"], ["37499", "in-1", "Other"]])
    result = run_import(tenant, KINDS["rules"], "r.csv", content, apply=True)
    assert result.ok, result.errors
    assert RoutingRule.objects.get(code="37499").trunk.customer.name == "Other"


def test_a_customers_balance_is_never_imported(tenant):
    content = csv_bytes([["name", "country", "balance"], ["Carrier", "AM", "1000"]])
    result = run_import(tenant, KINDS["customers"], "c.csv", content, apply=True)
    assert "unknown column(s) balance" in result.file_error
    assert not Customer.objects.exists()
