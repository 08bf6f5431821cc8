"""Imports of the routing policy (SPEC §8 and §9): translation rules, number-list entries and
schedule windows, one row per child, the parent named by its name (created when missing).
Preview and apply, the modes, every bad row refused with its line and column and nothing
written, tenancy, a 10,000-entry list, the command and the API."""

import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from routing.models import (
    NumberList,
    NumberListEntry,
    Schedule,
    ScheduleWindow,
    TranslationRule,
    TranslationSet,
)
from tests import factories as f
from tests.api.conftest import token_client
from tests.vmgate.test_import import csv_bytes
from tests.vmgate.test_import_command import run, write
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def op_api(operator):
    return token_client(operator)


RULES = [
    ["translation_set", "position", "match", "replace", "stop"],
    ["Carrier A in", "1", "00([0-9]+)", "\\1", "true"],
    ["Carrier A in", "2", "0([0-9]{8})", "374\\1", "false"],
    ["Carrier A in", "3", "(374)0?([0-9]+)", "\\1\\2", "true"],
]
ENTRIES = [
    ["number_list", "kind", "applies_to", "value", "match", "note"],
    ["Premium", "deny", "called", "3749000", "prefix", "premium rate"],
    ["Premium", "deny", "called", "0037491234567", "exact", ""],
    ["VIP callers", "allow", "calling", "37410", "prefix", ""],
]
WINDOWS = [
    ["schedule", "timezone", "weekdays", "start", "end"],
    ["Office hours", "Asia/Yerevan", "1 2 3 4 5", "09:00", "18:00"],
    ["Office hours", "Asia/Yerevan", "6", "10:00", "14:00"],
    ["Night", "Europe/Berlin", "5", "22:00", "02:00"],
]


def imp(tenant, key, rows, **kwargs):
    kwargs.setdefault("apply", True)
    return run_import(tenant, KINDS[key], f"{key}.csv", csv_bytes(rows), **kwargs)


def errors_of(result):
    return [(line, column) for line, column, _ in result.errors]


def messages(result):
    return " | ".join(m for _, _, m in result.errors)


# --- translation rules -----------------------------------------------------------------------


def test_a_preview_of_rules_writes_nothing_and_the_apply_writes_set_and_rules(tenant, operator):
    preview = imp(tenant, "translation_rules", RULES, apply=False)
    assert preview.ok and not preview.applied
    assert preview.counts == {"create": 3, "update": 0, "delete": 0, "unchanged": 0}
    assert not TranslationSet.objects.exists() and not ImportRun.objects.exists()

    applied = imp(tenant, "translation_rules", RULES, user=operator)
    assert applied.ok and applied.applied
    translation = TranslationSet.objects.get(tenant=tenant, name="Carrier A in")
    rules = list(translation.rules.order_by("position").values_list("position", "match", "stop"))
    assert rules == [
        (1, "00([0-9]+)", True),
        (2, "0([0-9]{8})", False),
        (3, "(374)0?([0-9]+)", True),
    ]
    assert translation.rules.get(position=2).replace == "374\\1"
    run_entry = ImportRun.objects.get(tenant=tenant)
    assert run_entry.summary == "Imported translation_rules.csv: 3 created"
    reasons = set(TranslationRule.history.values_list("history_change_reason", flat=True))
    assert reasons == {run_entry.reason}

    again = imp(tenant, "translation_rules", RULES)
    assert again.counts == {"create": 0, "update": 0, "delete": 0, "unchanged": 3}


def test_rules_update_by_set_and_position_and_replace_only_touches_the_sets_named(tenant):
    imp(tenant, "translation_rules", RULES)
    other = f.TranslationRuleFactory(translation_set__tenant=tenant, position=1)
    changed = [RULES[0], ["Carrier A in", "1", "000([0-9]+)", "\\1", "true"]]
    result = imp(tenant, "translation_rules", changed, mode="update")
    assert result.counts == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}
    assert result.rows["update"][0].changes == [("match", "00([0-9]+)", "000([0-9]+)")]
    assert TranslationRule.objects.filter(translation_set__name="Carrier A in").count() == 3

    result = imp(tenant, "translation_rules", changed, mode="replace")
    assert result.counts == {"create": 0, "update": 0, "delete": 2, "unchanged": 1}
    assert list(
        TranslationRule.objects.filter(translation_set__name="Carrier A in").values_list(
            "position", flat=True
        )
    ) == [1]
    assert TranslationRule.objects.filter(pk=other.pk).exists()  # its set is not in the file

    result = imp(tenant, "translation_rules", changed, mode="add")
    assert errors_of(result) == [(2, "translation_set")]
    assert "already exists (mode add creates only)" in messages(result)


def test_bad_rules_are_refused_by_line_and_column_and_nothing_is_written(tenant):
    rows = [
        RULES[0],
        ["Fresh set", "1", "0([0-9]+)", "374\\1", "true"],  # fine, but the file fails
        ["Fresh set", "2", "0([0-9]+", "\\1", "true"],
        ["Fresh set", "3", "(0+)+1", "", "true"],
        ["Fresh set", "4", "([0-9])\\1", "", "true"],
        ["Fresh set", "5", "0[0-9]+", "\\1", "true"],
        ["Fresh set", "6", "0([0-9]+)", "'+374\\1", "true"],
        ["Fresh set", "x", "0", "", "true"],
        ["Fresh set", "0", "0", "", "true"],
        ["Fresh set", "8", "0", "", "maybe"],
        ["Fresh set", "1", "1", "", "true"],
        ["", "9", "0", "", "true"],
    ]
    result = imp(tenant, "translation_rules", rows)
    assert not result.ok and not result.applied
    assert errors_of(result) == [
        (3, "match"),
        (4, "match"),
        (5, "match"),
        (6, "replace"),
        (7, "replace"),
        (8, "position"),
        (9, "position"),
        (10, "stop"),
        (11, "translation_set"),
        (12, "translation_set"),
    ]
    text = messages(result)
    for words in (
        "Not a valid regular expression",
        "backtrack too much",
        "Backreferences",
        "has no group 1",
        "digits only",
        "Line 2 already has",
    ):
        assert words in text, words
    assert not TranslationSet.objects.exists() and not TranslationRule.objects.exists()


# --- number list entries ---------------------------------------------------------------------


def test_entries_create_their_lists_with_the_files_kind_and_update_notes(tenant):
    result = imp(tenant, "number_list_entries", ENTRIES)
    assert result.ok, result.errors
    premium = NumberList.objects.get(tenant=tenant, name="Premium")
    vip = NumberList.objects.get(tenant=tenant, name="VIP callers")
    assert (premium.kind, premium.applies_to) == ("deny", "called")
    assert (vip.kind, vip.applies_to) == ("allow", "calling")
    assert sorted(premium.entries.values_list("value", "match")) == [
        ("0037491234567", "exact"),
        ("3749000", "prefix"),
    ]
    noted = [ENTRIES[0], ["Premium", "", "", "3749000", "prefix", "premium, since May"]]
    result = imp(tenant, "number_list_entries", noted)
    assert result.counts == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}
    assert premium.entries.get(value="3749000").note == "premium, since May"
    result = imp(tenant, "number_list_entries", noted, mode="replace")
    assert result.counts["delete"] == 1 and premium.entries.count() == 1
    assert vip.entries.count() == 1  # not named in the file


def test_an_entry_row_must_agree_with_its_existing_lists_kind(tenant):
    f.NumberListFactory(tenant=tenant, name="Premium", kind="allow")
    result = imp(tenant, "number_list_entries", ENTRIES[:2])
    assert errors_of(result) == [(2, "kind")]
    assert "has kind allow, not deny" in messages(result)
    assert not NumberListEntry.objects.exists()


def test_bad_entries_are_refused_by_line_and_column_and_nothing_is_written(tenant):
    rows = [
        ENTRIES[0],
        ["New list", "deny", "called", "1900", "prefix", ""],
        ["New list", "deny", "called", "19a0", "prefix", ""],
        ["New list", "deny", "called", "+1900", "prefix", ""],
        ["New list", "deny", "called", "3.74E+02", "prefix", ""],
        ["New list", "deny", "called", "1" * 25, "prefix", ""],
        ["New list", "deny", "called", "1901", "suffix", ""],
        ["New list", "deny", "called", "1900", "prefix", "again"],
        ["Other list", "block", "called", "1", "prefix", ""],
        ["Third list", "deny", "dialled", "1", "prefix", ""],
        ["New list", "deny", "called", "", "prefix", ""],
    ]
    result = imp(tenant, "number_list_entries", rows)
    assert errors_of(result) == [
        (3, "value"),
        (4, "value"),
        (5, "value"),
        (6, "value"),
        (6, "value"),
        (7, "match"),
        (8, "number_list"),
        (9, "kind"),
        (10, "applies_to"),
        (11, "value"),
    ]
    assert "Use 1–24 digits 0-9." in messages(result)
    assert "looks like a number a spreadsheet converted" in messages(result)
    assert not NumberList.objects.exists() and not NumberListEntry.objects.exists()


def test_a_10000_entry_list_imports_in_bulk_and_again_as_unchanged(tenant, operator):
    rows = [ENTRIES[0]] + [
        ["Premium", "deny", "called", f"1900{i:05d}", "exact", f"n{i}"] for i in range(10_000)
    ]
    started = time.monotonic()
    result = imp(tenant, "number_list_entries", rows, user=operator)
    assert result.ok and result.applied, result.errors
    assert result.counts["create"] == 10_000
    assert NumberListEntry.objects.filter(number_list__tenant=tenant).count() == 10_000
    assert NumberListEntry.history.count() == 10_000
    again = imp(tenant, "number_list_entries", rows, mode="replace")
    assert again.counts == {"create": 0, "update": 0, "delete": 0, "unchanged": 10_000}
    assert time.monotonic() - started < 60


# --- schedule windows ------------------------------------------------------------------------


def test_windows_create_their_schedules_in_the_files_time_zone(tenant):
    result = imp(tenant, "schedule_windows", WINDOWS)
    assert result.ok, result.errors
    office = Schedule.objects.get(tenant=tenant, name="Office hours")
    assert office.timezone == "Asia/Yerevan"
    assert sorted(office.windows.values_list("weekdays", flat=True)) == [[1, 2, 3, 4, 5], [6]]
    night = Schedule.objects.get(tenant=tenant, name="Night").windows.get()
    assert (night.weekdays, str(night.start), str(night.end)) == ([5], "22:00:00", "02:00:00")
    again = imp(tenant, "schedule_windows", WINDOWS)
    assert again.counts["unchanged"] == 3

    # Replace: the file becomes each named schedule's windows; others keep theirs.
    moved = [WINDOWS[0], ["Office hours", "", "1,2,3,4", "08:30", "17:30"]]
    result = imp(tenant, "schedule_windows", moved, mode="replace")
    assert result.counts == {"create": 1, "update": 0, "delete": 2, "unchanged": 0}
    window = office.windows.get()
    assert (window.weekdays, str(window.start)) == ([1, 2, 3, 4], "08:30:00")
    assert Schedule.objects.get(name="Night").windows.count() == 1


def test_bad_windows_are_refused_by_line_and_column_and_nothing_is_written(tenant):
    f.ScheduleFactory(tenant=tenant, name="Berlin", timezone="Europe/Berlin")
    rows = [
        WINDOWS[0],
        ["Fresh", "Asia/Yerevan", "1", "09:00", "17:00"],
        ["Mars", "Mars/Olympus", "1", "09:00", "17:00"],
        ["Fresh", "", "", "09:00", "17:00"],
        ["Fresh", "", "Mon-Fri", "09:00", "17:00"],
        ["Fresh", "", "8", "09:00", "17:00"],
        ["Fresh", "", "1 1", "09:00", "17:00"],
        ["Fresh", "", "2", "25:00", "9"],
        ["Berlin", "Asia/Yerevan", "1", "09:00", "17:00"],
        ["Fresh", "", "1", "9:00", "17:00"],
    ]
    result = imp(tenant, "schedule_windows", rows)
    assert errors_of(result) == [
        (3, "timezone"),
        (4, "weekdays"),
        (5, "weekdays"),
        (6, "weekdays"),
        (7, "weekdays"),
        (8, "start"),
        (8, "end"),
        (9, "timezone"),
        (10, "schedule"),
    ]
    text = messages(result)
    assert "is not an IANA time zone" in text and "Choose at least one weekday" in text
    assert "A weekday is listed twice." in text and "Weekdays are numbers 1–7" in text
    assert list(Schedule.objects.values_list("name", flat=True)) == ["Berlin"]
    assert not ScheduleWindow.objects.exists()


# --- tenancy, export → import, the command and the API -----------------------------------------


def test_a_parent_named_like_another_tenants_is_this_tenants_own(tenant, other_tenant):
    theirs = f.TranslationSetFactory(tenant=other_tenant, name="Carrier A in")
    f.TranslationRuleFactory(translation_set=theirs, position=1, match="9")
    result = imp(tenant, "translation_rules", RULES, mode="replace")
    assert result.ok and result.counts["create"] == 3 and result.counts["delete"] == 0
    mine = TranslationSet.objects.get(tenant=tenant, name="Carrier A in")
    assert mine != theirs and mine.rules.count() == 3
    assert list(theirs.rules.values_list("match", flat=True)) == ["9"]


@pytest.mark.parametrize("key", ["translation_rules", "number_list_entries", "schedule_windows"])
def test_the_kinds_columns_read_back_as_a_no_op(key, tenant):
    f.TranslationRuleFactory(translation_set__tenant=tenant, match="=?([0-9]+)", replace="\\1")
    f.TranslationRuleFactory(translation_set__tenant=tenant, stop=False)
    f.NumberListEntryFactory(number_list__tenant=tenant, value="0093", note="@x")
    f.NumberListEntryFactory(number_list__tenant=tenant, match="exact")
    f.ScheduleWindowFactory(schedule__tenant=tenant, weekdays=[6, 7])
    f.ScheduleWindowFactory(schedule__tenant=tenant, start=time_of("22:00"), end=time_of("02:00"))
    kind = KINDS[key]
    model = kind.model
    rows = model.objects.filter(**{model.tenant_path: tenant})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(kind.column_names)
    from vmgate.export import cell

    for row in rows:
        writer.writerow([cell(c.get(row)) for c in kind.columns])
    before = list(rows.order_by("pk").values())
    for mode in ("update", "replace"):
        result = run_import(tenant, kind, "x.csv", out.getvalue().encode(), mode=mode, apply=True)
        assert result.ok, result.errors
        assert result.counts["unchanged"] == 2 and result.counts["delete"] == 0, mode
    assert list(rows.order_by("pk").values()) == before


def test_a_number_lists_page_export_imports_back_as_a_no_op(op_client, tenant):
    entry = f.NumberListEntryFactory(number_list__tenant=tenant, value="0093", note="=x")
    f.NumberListEntryFactory(number_list=entry.number_list, match="exact")
    url = reverse("routing:numberlist_detail", args=[entry.number_list_id])
    response = op_client.get(url, {"export": "csv"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    before = list(NumberListEntry.objects.order_by("pk").values())
    for mode in ("update", "replace"):
        result = run_import(tenant, KINDS["number_list_entries"], "e.csv", data, mode=mode)
        assert result.ok and result.counts["unchanged"] == 2, (result.errors, result.counts)
    assert list(NumberListEntry.objects.order_by("pk").values()) == before


def time_of(text):
    from datetime import time as clock

    hours, minutes = text.split(":")
    return clock(int(hours), int(minutes))


def test_the_command_imports_windows_and_exits_1_on_a_bad_row(tenant, tmp_path):
    good = write(tmp_path, "w.csv", WINDOWS)
    status, out = run("schedule_windows", good, "--tenant", tenant.slug, "--dry-run")
    assert status == 0 and "3 create" in out.replace(",", "")
    assert not Schedule.objects.exists()
    bad = write(tmp_path, "bad.csv", [WINDOWS[0], ["X", "Nowhere/City", "1", "09:00", "10:00"]])
    status, out = run("schedule_windows", bad, "--tenant", tenant.slug)
    assert status == 1 and "timezone" in out
    assert not Schedule.objects.exists()


def test_the_api_previews_and_applies_entries(op_api, tenant):
    body = {
        "kind": "number_list_entries",
        "file": SimpleUploadedFile("entries.csv", csv_bytes(ENTRIES)),
        "dry_run": "true",
    }
    response = op_api.post("/api/v1/imports/", body, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["applied"] is False and response.json()["counts"]["create"] == 3
    assert not NumberList.objects.exists()
    bad = [ENTRIES[0], ["Premium", "deny", "called", "19a", "prefix", ""]]
    body = {"kind": "number_list_entries", "file": SimpleUploadedFile("e.csv", csv_bytes(bad))}
    response = op_api.post("/api/v1/imports/", body, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 2
    assert response.json()["errors"][0]["column"] == "value"
    body = {"kind": "number_list_entries", "file": SimpleUploadedFile("e.csv", csv_bytes(ENTRIES))}
    response = op_api.post("/api/v1/imports/", body, format="multipart")
    assert response.status_code == 200 and response.json()["applied"] is True
    assert NumberListEntry.objects.filter(number_list__tenant=tenant).count() == 3
