"""CSV export of a 100,000-rate plan (issue 17's figure: streaming starts within 1 s and
ends within 15 s), through Django's test client as a logged-in operator of the plan's
tenant, on the engine's 1M data set (it has one plan of 100,000 rates):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_engine \\
        .venv/bin/python bench/bench_export.py [--runs 3]

Prints per run: time to the header row, time to the first data row, total time, rows and
bytes, and the process's peak RSS (the export streams: memory must not grow with the rows).
Reads only; changes nothing.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from customers.models import RatePlan  # noqa: E402
from vmgate.models import Membership  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    plan = RatePlan.objects.annotate(n=Count("rates")).order_by("-n").first()
    if plan is None:
        sys.exit("no rate plan: build the engine's data set first (bench/README.md)")
    member = Membership.objects.filter(tenant_id=plan.tenant_id, role="operator").first()
    if member is None:
        sys.exit("no operator in the plan's tenant")
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(member.user)
    url = reverse("customers:rate_list", kwargs={"plan_pk": plan.pk})
    print(f"plan “{plan.name}”: {plan.n} rates; {url}?export=csv")
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        response = client.get(url, {"export": "csv"}, secure=True)
        assert response.status_code == 200, response.status_code
        chunks = iter(response.streaming_content)
        header = next(chunks)
        t_header = time.perf_counter() - t0
        first = next(chunks)
        t_first = time.perf_counter() - t0
        rows, size = 1, len(header) + len(first)
        for chunk in chunks:
            rows += 1
            size += len(chunk)
        total = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"run {run}: header {t_header * 1000:.0f} ms, first row {t_first * 1000:.0f} ms, "
            f"all {rows} rows {total:.1f} s, {size / 1e6:.1f} MB; peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
