"""``manage.py import_data`` (SPEC §8 "Command"): the preview as text (counts, errors with
line and column, the changed rows, the routing checks whose outcome changes), exit 0 when
it applied (or with --dry-run would apply), 1 when a row has an error (nothing written),
2 for usage errors — through ``call_command`` and through a real ``manage.py`` process."""

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from customers.models import Customer, Rate, Trunk
from routing.models import RoutingRule
from tests import factories as f
from tests.vmgate.test_import import csv_bytes
from vmgate.import_kinds import KINDS
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db

SINCE = "2026-01-01T00:00:00+00:00"


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return str(path)


def run(*args, **kwargs):
    """(exit status, stdout) of call_command; a usage error raises CommandError."""
    out = io.StringIO()
    try:
        call_command("import_data", *args, stdout=out, stderr=io.StringIO(), **kwargs)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def usage_status(*args, **kwargs):
    with pytest.raises(CommandError) as exc:
        call_command("import_data", *args, stdout=io.StringIO(), stderr=io.StringIO(), **kwargs)
    return exc.value.returncode, str(exc.value)


CUSTOMERS = [
    ["name", "country", "billing_type"],
    ["Alpha", "AM", "prepaid"],
    ["Beta", "GE", "postpaid"],
]


# --- 0: applied, or a clean dry run ------------------------------------------------------


def test_applies_a_clean_file_prints_the_counts_and_exits_0(tmp_path, tenant):
    path = write(tmp_path, "customers.csv", CUSTOMERS)
    status, out = run("customers", path, "--tenant", tenant.slug)
    assert status == 0
    assert "Counts: 2 create, 0 update, 0 delete, 0 unchanged, 0 error" in out
    assert "line 2: Alpha" in out and "country: (empty) → AM" in out
    assert "Imported customers.csv: 2 created" in out
    assert sorted(Customer.objects.filter(tenant=tenant).values_list("name", flat=True)) == [
        "Alpha",
        "Beta",
    ]
    run_entry = ImportRun.objects.get(tenant=tenant)
    assert (run_entry.kind, run_entry.filename, run_entry.mode) == (
        "customers",
        "customers.csv",
        "update",
    )
    # the same file again changes nothing
    status, out = run("customers", path, "--tenant", tenant.slug)
    assert status == 0 and "0 create, 0 update, 0 delete, 2 unchanged" in out


def test_a_dry_run_shows_the_routing_check_that_would_change_and_writes_nothing(tmp_path, tenant):
    w = f.build_route_world(tenant)
    f.armenia_mobile_check(w)
    path = write(tmp_path, "rules.csv", [["code", "trunk", "is_active"], ["374", "", "false"]])
    status, out = run("rules", path, "--tenant", tenant.slug, "--dry-run")
    assert status == 0
    assert "Counts: 0 create, 1 update, 0 delete, 0 unchanged, 0 error" in out
    assert "is_active: true → false" in out
    assert "Routing checks whose outcome would change (1):" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("Armenia mobile:"))
    assert "routed via 374" in line and "→ rejected" in line.lower() and "(passed → fails)" in line
    assert "Dry run: nothing written" in out
    assert RoutingRule.objects.get(pk=w["rule"].pk).is_active
    assert not ImportRun.objects.exists()


def test_rates_go_into_the_named_plan_of_the_tenant(tmp_path, tenant, other_tenant):
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    theirs = f.RatePlanFactory(tenant=other_tenant, name="Deck")
    f.RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.1"))
    path = write(
        tmp_path,
        "deck.csv",
        [["code", "rate_per_min", "valid_since"], ["374", "0.15", SINCE], ["0093", "0.3", SINCE]],
    )
    status, out = run("rates", path, "--tenant", tenant.slug, "--rate-plan", "Deck")
    assert status == 0, out
    assert "1 create, 1 update" in out and "rate_per_min: 0.100000 → 0.15" in out
    assert sorted(Rate.objects.filter(rate_plan=plan).values_list("code", flat=True)) == [
        "0093",
        "374",
    ]
    assert not Rate.objects.filter(rate_plan=theirs).exists()


def test_a_dash_reads_standard_input_and_json_prints_the_apis_shape(tenant):
    data = csv_bytes(CUSTOMERS)
    status, out = run(
        "customers", "-", "--tenant", tenant.slug, "--dry-run", "--json", stdin=io.BytesIO(data)
    )
    assert status == 0
    preview = json.loads(out)
    assert preview["file"] == "stdin" and preview["applied"] is False
    assert preview["counts"] == {"create": 2, "update": 0, "delete": 0, "unchanged": 0, "error": 0}
    assert not Customer.objects.exists()


# --- 1: a row (or the file) has an error -------------------------------------------------


def test_row_errors_are_listed_by_line_and_column_exit_1_and_write_nothing(tmp_path, tenant):
    path = write(tmp_path, "customers.csv", [*CUSTOMERS, ["Gamma", "XX", "prepaid"]])
    status, out = run("customers", path, "--tenant", tenant.slug)
    assert status == 1
    assert "Counts: 2 create, 0 update, 0 delete, 0 unchanged, 1 error" in out
    assert "line 4, column country: Select a valid choice." in out
    assert "errors, nothing written" in out
    assert not Customer.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_name_of_another_tenant_is_not_found(tmp_path, tenant, other_tenant):
    f.CustomerFactory(tenant=other_tenant, name="Theirs")
    path = write(tmp_path, "t.csv", [["customer", "name", "networks"], ["Theirs", "in", ""]])
    status, out = run("trunks", path, "--tenant", tenant.slug)
    assert status == 1
    assert "line 2, column customer: Customer “Theirs” not found." in out
    assert not Trunk.objects.exists()


def test_a_file_the_import_cannot_read_is_an_error_of_the_data_exit_1(tmp_path, tenant):
    path = write(tmp_path, "c.csv", [["name", "colour"], ["Alpha", "red"]])
    status, out = run("customers", path, "--tenant", tenant.slug, "--dry-run")
    assert status == 1
    assert "file: Line 1 (header): unknown column(s) colour." in out


def test_a_file_over_the_limit_is_refused_without_being_read_whole(tmp_path, tenant):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:  # sparse: 200 MB on paper, nothing on the disk
        handle.write(b"name\n")
        handle.truncate(200 * 1024 * 1024)
    status, out = run("customers", str(path), "--tenant", tenant.slug)
    assert status == 1
    assert "file: The file is 200.0 MB; the limit is 20 MB. Split it into smaller files." in out


# --- 2: usage errors ---------------------------------------------------------------------


@pytest.fixture
def usage_world(tmp_path, tenant, other_tenant):
    f.RatePlanFactory(tenant=tenant, name="Deck")
    f.RatePlanFactory(tenant=other_tenant, name="Theirs")
    return write(tmp_path, "c.csv", CUSTOMERS)


@pytest.mark.parametrize(
    "args, message",
    [
        (["nonsense", "{file}", "--tenant", "tenant-a"], "Unknown kind “nonsense”"),
        (["customers", "{file}", "--tenant", "nobody"], "No tenant with slug “nobody”"),
        (["customers", "{file}"], "Name the tenant"),
        (["customers", "{file}", "--tenant", "tenant-a", "--mode", "merge"], "Unknown mode"),
        (["rates", "{file}", "--tenant", "tenant-a"], "go into a rate plan"),
        (["rates", "{file}", "--tenant", "tenant-a", "--rate-plan", "Nope"], "No rate plan"),
        # another tenant's plan is as unknown as a missing one
        (["rates", "{file}", "--tenant", "tenant-a", "--rate-plan", "Theirs"], "No rate plan"),
        (["customers", "{file}", "--tenant", "tenant-a", "--rate-plan", "Deck"], "rates only"),
        (["customers", "/no/such/file.csv", "--tenant", "tenant-a"], "Cannot read"),
        (["customers"], "the following arguments are required"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(usage_world, args, message):
    args = [a.replace("{file}", usage_world) for a in args]
    status, text = usage_status(*args)
    assert status == 2
    assert message in text
    assert not Customer.objects.exists()


def test_a_directory_is_not_a_readable_file(tmp_path, tenant):
    status, text = usage_status("customers", str(tmp_path), "--tenant", tenant.slug)
    assert status == 2 and "Cannot read" in text


def test_every_kind_is_accepted(tmp_path, tenant):
    """The kinds come from the import core: each runs (its header errors are data errors)."""
    plan = f.RatePlanFactory(tenant=tenant, name="Deck")
    path = write(tmp_path, "x.csv", [["no_such_column"], ["x"]])
    for key, kind in KINDS.items():
        extra = ["--rate-plan", plan.name] if kind.needs_rate_plan else []
        status, out = run(key, path, "--tenant", tenant.slug, *extra)
        assert status == 1, key
        assert "unknown column(s) no_such_column" in out, key


# --- the real process: the status is what the shell sees -----------------------------------


def manage(*args, stdin=None):
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "manage.py", "import_data", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="another process cannot see SQLite's test database"
)
@pytest.mark.django_db(transaction=True)
def test_the_process_exit_status_is_0_1_or_2(tmp_path, tenant):
    good = write(tmp_path, "customers.csv", CUSTOMERS)
    bad = write(tmp_path, "bad.csv", [*CUSTOMERS, ["Gamma", "XX", "prepaid"]])

    dry = manage("customers", good, "--tenant", tenant.slug, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert b"2 create" in dry.stdout
    assert not Customer.objects.exists()

    errors = manage("customers", bad, "--tenant", tenant.slug)
    assert errors.returncode == 1, errors.stderr
    assert "line 4, column country: Select a valid choice." in errors.stdout.decode()
    assert not Customer.objects.exists()

    for usage in (
        ["customers", good, "--tenant", "nobody"],  # checked by the command
        ["customers"],  # refused by the argument parser
    ):
        refused = manage(*usage)
        assert refused.returncode == 2, (usage, refused.stderr)
        assert not refused.stdout.strip()

    applied = manage("customers", "-", "--tenant", tenant.slug, stdin=csv_bytes(CUSTOMERS))
    assert applied.returncode == 0, applied.stderr
    assert b"Imported stdin: 2 created" in applied.stdout
    assert Customer.objects.filter(tenant=tenant).count() == 2
