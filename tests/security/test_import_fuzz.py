"""Imports fuzzed: odd files of every kind (headers of real, repeated and unknown columns;
cells of odd values; random bytes) through :func:`vmgate.imports.run_import` and the
upload page — never an exception, never a 5xx, never a traceback logged; a file with an
error writes nothing. Bounded and derandomized for CI."""

import csv
import io
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import RatePlanFactory, build_route_world
from tests.security.test_form_fuzz import ODD
from vmgate.import_kinds import KINDS
from vmgate.imports import run_import
from vmgate.models import ImportRun

pytestmark = pytest.mark.django_db

EXAMPLES = 15
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CELL = st.one_of(
    ODD.filter(lambda v: len(v) < 1000),
    st.sampled_from(
        [
            "*",
            "374",
            "0093",
            "true",
            "no",
            "Carrier",
            "in-1",
            "Yerevan",
            "2026-01-01",
            "0.1",
            "'=1",
            "=1",
            "3.74E+02",
            "[]",
            '[{"position":1}]',
        ]
    ),
)


def csv_text(header, rows, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("key", sorted(KINDS))
def test_odd_files_of_every_kind_never_raise(key, tenant, caplog):
    kind = KINDS[key]
    world = build_route_world(tenant)
    plan = world["plan"] if kind.needs_rate_plan else None
    names = kind.column_names

    @SETTINGS
    @given(
        header=st.lists(
            st.one_of(st.sampled_from(names), st.text(max_size=8)),
            min_size=1,
            max_size=len(names) + 2,
        ),
        rows=st.lists(st.lists(CELL, max_size=len(names) + 2), min_size=0, max_size=4),
        delimiter=st.sampled_from([",", ";", "\t"]),
        apply=st.booleans(),
    )
    def one(header, rows, delimiter, apply):
        data = csv_text(header, rows, delimiter).encode("utf-8", "surrogatepass")
        runs = ImportRun.objects.count()
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            result = run_import(tenant, kind, "odd.csv", data, rate_plan=plan, apply=apply)
        assert not [r for r in caplog.records if r.exc_info], data
        if not result.ok:
            assert not result.applied and ImportRun.objects.count() == runs
        assert result.as_dict()["kind"] == key

    one()


def test_random_bytes_to_the_upload_page_never_cause_a_server_error(tenant, operator, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    plan = RatePlanFactory(tenant=tenant)

    @SETTINGS
    @given(
        key=st.sampled_from(sorted(KINDS)),
        content=st.binary(max_size=300),
        name=st.sampled_from(["f.csv", "f.xlsx", "f", "../../etc/passwd", "ф.csv"]),
        mode=st.sampled_from(["update", "add", "replace", "", "x"]),
    )
    def one(key, content, name, mode):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            response = client.post(
                reverse("vmgate:importupload_add", args=[key]),
                {"file": SimpleUploadedFile(name, content), "mode": mode, "rate_plan": plan.pk},
            )
        assert response.status_code in (200, 302), response.status_code
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        if response.status_code == 302:
            assert client.get(response["Location"]).status_code == 200

    one()


def test_odd_query_parameters_of_the_import_form_never_cause_a_server_error(
    tenant, operator, caplog
):
    client = Client(raise_request_exception=False)
    client.force_login(operator)

    @SETTINGS
    @given(key=st.sampled_from([*sorted(KINDS), "nothing"]), plan=ODD)
    def one(key, plan):
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            response = client.get(
                reverse("vmgate:importupload_add", args=[key]), {"rate_plan": plan}
            )
        assert response.status_code in (200, 404), (key, plan, response.status_code)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    one()
