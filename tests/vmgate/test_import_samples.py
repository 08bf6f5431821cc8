"""The sample files of docs/samples/ (SPEC §8): every import kind has one, each imports
cleanly into an empty tenant in the order docs/samples/README.md gives, creating rows, and
a second import of each changes nothing."""

import csv
import re
from pathlib import Path

import pytest

from customers.models import RatePlan
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
#: The rate plan the README says must exist before trunks and rates are imported.
RATE_PLAN = "Wholesale"


def documented_order():
    """The kinds in the order of the README's numbered list (``1. `customers.csv` …``)."""
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^\d+\. `(\w+)\.csv`", text, flags=re.MULTILINE)


def test_every_kind_has_a_sample_in_the_documented_order():
    order = documented_order()
    assert sorted(order) == sorted(KINDS), "one sample per import kind, listed in the README"
    assert len(order) == len(set(order))
    for key in order:
        assert (SAMPLES / f"{key}.csv").is_file(), f"docs/samples/{key}.csv is missing"
    assert f"--rate-plan {RATE_PLAN}" in (SAMPLES / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(KINDS))
def test_a_sample_has_its_kinds_exact_columns(key):
    data = (SAMPLES / f"{key}.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "UTF-8 without a BOM"
    rows = list(csv.reader(data.decode("utf-8").splitlines()))
    assert rows[0] == KINDS[key].column_names
    assert len(rows) >= 3, "a handful of rows"
    assert all(len(row) == len(rows[0]) for row in rows)


def test_the_samples_import_in_order_into_an_empty_tenant(tenant, operator):
    plan = RatePlan.objects.create(tenant=tenant, name=RATE_PLAN)
    for key in documented_order():
        kind = KINDS[key]
        data = (SAMPLES / f"{key}.csv").read_bytes()
        rate_plan = plan if kind.needs_rate_plan else None
        first = run_import(
            tenant, kind, f"{key}.csv", data, rate_plan=rate_plan, apply=True, user=operator
        )
        assert first.ok, (key, first.file_error, first.errors)
        assert first.applied
        rows = len(data.decode("utf-8").strip().splitlines()) - 1
        assert first.counts == {"create": rows, "update": 0, "delete": 0, "unchanged": 0}, key
        assert kind.model.objects.filter(**{tenant_filter(kind): tenant}).count() == rows

    # Again, in the same order: every row is found and left as it is.
    for key in documented_order():
        kind = KINDS[key]
        data = (SAMPLES / f"{key}.csv").read_bytes()
        rate_plan = plan if kind.needs_rate_plan else None
        again = run_import(tenant, kind, f"{key}.csv", data, rate_plan=rate_plan, apply=True)
        assert again.ok, (key, again.file_error, again.errors)
        rows = len(data.decode("utf-8").strip().splitlines()) - 1
        assert again.counts == {"create": 0, "update": 0, "delete": 0, "unchanged": rows}, (
            key,
            again.rows,
        )
        assert not again.check_changes


def tenant_filter(kind):
    return getattr(kind.model, "tenant_path", "tenant")
