"""Bulk import of a 100,000-row rate deck (issue 17's targets: preview ≤ 30 s and apply
≤ 30 s, peak RSS ≤ 500 MB), through :func:`vmgate.imports.run_import`, the one path behind
the page, the API and ``manage.py import_data``:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vmgate_bench_import \\
        .venv/bin/python bench/bench_import.py [--rows 100000] [--existing N] [--keep]

Creates (drops first) and migrates its own database (its name must contain "bench"), and
generates one tenant ``bench-import`` with a rate plan "Wholesale" of ``--existing`` rates
(default: as many as ``--rows``; realistic codes: every calling code plus 1–3 digit
extensions, one price each), a trunk on that plan with eight rules, targets and dialpeers,
and twelve saved routing checks on the trunk (so the preview's before/after check run is
included). The deck (``--rows`` rows, sorted by code, all seven export columns) updates
half its rows' prices, repeats a quarter unchanged and creates a quarter (among them the
codes of Uzbekistan, 998…, which the plan lacks: one check goes from "rejected" to
"routed"); a quarter of the plan's rates are not in it (replace mode deletes them).

Each phase runs in a fresh subprocess with ``DJANGO_DEBUG=0`` (so each peak RSS is that
phase's own, no query log is kept, and each pays a cold routing index, as a management
command would), in this order:

1. ``index``: only the tenant's routing index build (what every phase below pays first);
2. ``preview csv`` / ``preview xlsx``: ``run_import(..., apply=False)`` (rolls back);
3. ``apply``: ``apply=True``; 4. ``re-apply``: the same file again (all unchanged);
5. ``replace preview`` / ``replace``: mode replace (deletes the rates the deck lacks).

Per phase: counts, checks whose outcome changes, wall time, the process's CPU (user+sys),
the PostgreSQL backend's CPU (from /proc, same machine), the process's RSS after Django's
setup and its peak RSS (``ru_maxrss``). ``--profile PHASE`` runs the phases up to PHASE
(e.g. ``--profile "apply (CSV)"``) and prints cProfile's top entries of that one instead of
the table.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from customers.bulk import RATE  # noqa: E402

TENANT_SLUG = "bench-import"
PLAN_NAME = "Wholesale"
USERNAME = "bench-import-op"
SINCE = "2026-01-01T00:00:00+00:00"
TECH_PREFIX = "77"
SEED = 17
#: (code, label) of the rules, each with a dialpeer on the trunk and two targets.
RULES = [
    ("374", "Armenia"),
    ("7", "Russia / Kazakhstan"),
    ("33", "France"),
    ("49", "Germany"),
    ("44", "United Kingdom"),
    ("1", "NANP"),
    ("971", "UAE"),
    ("998", "Uzbekistan"),
]
#: (name, called number after the tech prefix, expected outcome).
CHECKS = [
    ("Armenia mobile", "37491234567", "routed"),
    ("Armenia fixed Yerevan", "37410123456", "routed"),
    ("Russia Moscow", "74951234567", "routed"),
    ("Kazakhstan mobile", "77011234567", "routed"),
    ("France mobile", "33612345678", "routed"),
    ("Germany mobile", "4915112345678", "routed"),
    ("UK mobile", "447700900123", "routed"),
    ("US New York", "12125550123", "routed"),
    ("UAE mobile", "971501234567", "routed"),
    ("Uzbekistan mobile", "998901234567", "routed"),  # no rate before the deck
    ("China (no route)", "8613812345678", "rejected"),
    ("Too short", "3", "rejected"),
]
COLUMNS = [c.name for c in RATE]  # the export's columns, the import's


# --- data --------------------------------------------------------------------------------


def plan_codes(existing_n, creates_n):
    """(codes the plan has, codes the deck creates): every calling code stays in the plan,
    the codes of 998 (Uzbekistan) are all new, the rest drawn at random."""
    from bench.gen_customers import rate_codes

    pool = list(dict.fromkeys(rate_codes(existing_n + creates_n + 500)))
    ccs = {c for c in pool if len(c) <= 3 and c in _calling_codes()}
    uz = [c for c in pool if c.startswith("998")]
    bare = [c for c in pool if c in ccs and not c.startswith("998")]
    others = [c for c in pool if c not in ccs and not c.startswith("998")]
    random.Random(SEED).shuffle(others)
    creates = uz + others[: max(0, creates_n - len(uz))]
    rest = others[len(creates) - len(uz) :]
    existing = bare + rest[: existing_n - len(bare)]
    return existing[:existing_n], creates[:creates_n]


def _calling_codes():
    import phonenumbers

    return {str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}


def price(k, bump=0):
    return f"{0.005 + (k * 7919 % 900) / 10000 + bump / 10000:.4f}"


def billing(code):
    return (0, 60) if code.startswith(("1", "7")) else (0, 1)


def generate(rows, existing_n):
    """The tenant, its plan of ``existing_n`` rates, the routing around one trunk, the
    checks; returns the deck's rows (sorted by code) and what they are."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
    from dialpeers.models import Dialpeer
    from routing.dialplan import label_for_code
    from routing.models import Network, RoutingCheck, RoutingRule, RoutingTarget, VMGateClient
    from vmgate.models import Membership, Tenant

    t0 = time.perf_counter()
    updates_n, unchanged_n = rows // 2, rows // 4
    creates_n = rows - updates_n - unchanged_n
    if updates_n + unchanged_n > existing_n:
        sys.exit(f"--existing must be at least {updates_n + unchanged_n} for {rows} rows")
    existing, creates = plan_codes(existing_n, creates_n)

    tenant = Tenant.objects.create(name="Bench import", slug=TENANT_SLUG)
    user = get_user_model().objects.create_user(USERNAME, password="bench-pass-2026")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.OPERATOR)
    plan = RatePlan.objects.create(tenant=tenant, name=PLAN_NAME)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    labels = {}

    def label(code):
        if code not in labels:
            labels[code] = label_for_code(code)
        return labels[code]

    batch = []
    for k, code in enumerate(existing):
        conn_sec, block = billing(code)
        batch.append(
            Rate(
                rate_plan=plan,
                code=code,
                description=label(code),
                valid_since=since,
                rate_per_min=Decimal(price(k)),
                connection_sec=conn_sec,
                billing_block_sec=block,
            )
        )
        if len(batch) == 5000:
            Rate.objects.bulk_create(batch)
            batch = []
    Rate.objects.bulk_create(batch)
    print(f"  {len(existing):,} rates in plan “{PLAN_NAME}” ({time.perf_counter() - t0:.1f} s)")

    customer = Customer.objects.create(
        tenant=tenant,
        name="Telco Transit",
        country="AM",
        billing_type=Customer.POSTPAID,
        credit_unlimited=True,
    )
    trunk = Trunk.objects.create(
        tenant=tenant, customer=customer, name="sbc-1", tech_prefix=TECH_PREFIX, rate_plan=plan
    )
    TrunkNetwork.objects.create(trunk=trunk, network="198.51.100.0/24")
    network = Network.objects.create(tenant=tenant, name="Yerevan")
    gateways = [
        VMGateClient.objects.create(
            tenant=tenant,
            network=network,
            name=f"gw-{i}",
            node_id=f"node-{i}",
            sip_uri=f"sip:10.8.0.{10 + i}:5060",
        )
        for i in (1, 2)
    ]
    rules = {}
    for code, text in RULES:
        rule = RoutingRule.objects.create(tenant=tenant, code=code, label=text)
        for priority, gw in enumerate(gateways):
            RoutingTarget.objects.create(rule=rule, client=gw, weight=10, priority=priority)
        Dialpeer.objects.create(tenant=tenant, customer=customer, trunk=trunk, rule=rule, name=text)
        rules[code] = rule
    for name, number, outcome in CHECKS:
        RoutingCheck.objects.create(
            tenant=tenant,
            trunk=trunk,
            name=name,
            called_number=TECH_PREFIX + number,
            expected_outcome=outcome,
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    # The deck: half the rows a new price for an existing rate, a quarter an existing rate
    # as it is, a quarter new codes; a quarter of the plan is not in it.
    rng = random.Random(SEED + 1)
    index_of = {code: k for k, code in enumerate(existing)}
    touched = rng.sample(existing, updates_n + unchanged_n)
    deck = []
    for n, code in enumerate(touched):
        k = index_of[code]
        conn_sec, block = billing(code)
        deck.append(
            (code, label(code), SINCE, price(k, 3 if n < updates_n else 0), "0", conn_sec, block)
        )
    for k, code in enumerate(creates):
        conn_sec, block = billing(code)
        deck.append((code, label(code), SINCE, price(k + 13), "0", conn_sec, block))
    deck.sort()
    print(
        f"  deck: {len(deck):,} rows ({updates_n:,} new prices, {unchanged_n:,} unchanged, "
        f"{creates_n:,} new codes; {existing_n - updates_n - unchanged_n:,} of the plan's "
        f"rates absent) ({time.perf_counter() - t0:.1f} s)"
    )
    return deck


def write_csv(deck, path):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(deck)


def write_xlsx(deck, path):
    """The deck as a spreadsheet would hold it: codes as text, prices and seconds as
    numbers, valid_since as a date-time cell."""
    from datetime import datetime

    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("rates")
    sheet.append(COLUMNS)
    since = datetime(2026, 1, 1)
    for code, description, _, rate, fee, conn_sec, block in deck:
        sheet.append([code, description, since, float(rate), float(fee), conn_sec, block])
    book.save(path)


# --- one phase, in its own process -------------------------------------------------------


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


def _backend_cpu(pid):
    """User+system CPU seconds of the PostgreSQL backend ``pid`` (None if not readable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_phase(args):
    from django.contrib.auth import get_user_model

    from customers.models import RatePlan
    from routing.engine import index
    from vmgate.import_kinds import KINDS
    from vmgate.imports import run_import
    from vmgate.models import Tenant

    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    plan = RatePlan.objects.get(tenant=tenant, name=PLAN_NAME)
    user = get_user_model().objects.get(username=USERNAME)
    data = Path(args.deck).read_bytes() if args.deck else b""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    rss_setup = _rss_mb()
    cpu0, db0 = time.process_time(), _backend_cpu(backend)
    t0 = time.perf_counter()

    def work():
        if args.phase == "index":
            index.get_index(tenant.pk)
            return None
        return run_import(
            tenant,
            KINDS["rates"],
            Path(args.deck).name,
            data,
            mode=args.mode,
            rate_plan=plan,
            apply=args.apply,
            user=user,
        )

    if args.cprofile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(work)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    else:
        result = work()
    wall = time.perf_counter() - t0
    cpu, db1 = time.process_time() - cpu0, _backend_cpu(backend)
    out = {
        "wall": wall,
        "cpu": cpu,
        "db_cpu": None if db0 is None or db1 is None else db1 - db0,
        "rss_setup": rss_setup,
        "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if result is not None:
        out.update(
            ok=result.ok,
            applied=result.applied,
            counts=result.counts,
            errors=result.error_total,
            first_errors=result.errors[:3],
            file_error=result.file_error,
            checks=[f"{c.name}: {c.before} → {c.after}" for c in result.check_changes],
        )
    print("RESULT " + json.dumps(out))


# --- the benchmark -----------------------------------------------------------------------

PHASES = [
    # (label, phase, file, mode, apply)
    ("index build only", "index", None, "update", False),
    ("preview (CSV)", "import", "csv", "update", False),
    ("preview (XLSX)", "import", "xlsx", "update", False),
    ("apply (CSV)", "import", "csv", "update", True),
    ("re-apply, same file", "import", "csv", "update", True),
    ("replace, preview", "import", "csv", "replace", False),
    ("replace, apply", "import", "csv", "replace", True),
]


def child(phase, deck, mode, apply, profile=False):
    cmd = [sys.executable, __file__, "--phase", phase, "--mode", mode]
    if deck:
        cmd += ["--deck", str(deck)]
    if apply:
        cmd.append("--apply")
    if profile:
        cmd.append("--cprofile")
    # As in production (and the SIP bench): DEBUG off, so no query log is kept.
    env = {**os.environ, "DJANGO_DEBUG": "0"}
    env.setdefault("DJANGO_SECRET_KEY", "bench-import-only")
    proc = subprocess.run(cmd, capture_output=not profile, text=True, check=False, env=env)
    if profile:
        return None
    if proc.returncode != 0:
        sys.exit(f"phase {phase} {deck} failed:\n{proc.stdout}\n{proc.stderr}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def bench(args):
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated ({time.perf_counter() - t0:.1f} s)")
    deck = generate(args.rows, args.existing or args.rows)
    workdir = Path(tempfile.mkdtemp(prefix="bench_import_"))
    files = {"csv": workdir / "rates.csv", "xlsx": workdir / "rates.xlsx"}
    t = time.perf_counter()
    write_csv(deck, files["csv"])
    csv_s = time.perf_counter() - t
    t = time.perf_counter()
    write_xlsx(deck, files["xlsx"])
    xlsx_s = time.perf_counter() - t
    print(
        f"  rates.csv {files['csv'].stat().st_size / 1e6:.1f} MB ({csv_s:.1f} s), "
        f"rates.xlsx {files['xlsx'].stat().st_size / 1e6:.1f} MB (openpyxl write_only, "
        f"{xlsx_s:.1f} s)"
    )
    connection.close()
    labels = [p[0] for p in PHASES]
    if args.profile and args.profile not in labels:
        sys.exit(f"--profile: one of {', '.join(labels)}")
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        results = []
        for label, phase, kind, mode, apply in PHASES:
            profile = label == args.profile
            res = child(phase, kind and files[kind], mode, apply, profile=profile)
            if profile:
                return  # the phases after it would start from another state
            results.append((label, res))
            print(f"  {label}: {res['wall']:.1f} s", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}\n")
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)
        workdir.rmdir()
    report(results)


def report(results):
    print(
        "| phase | create / update / delete / unchanged | checks changed | wall s | "
        "CPU s (app) | CPU s (PostgreSQL backend) | RSS after setup MB | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, res in results:
        counts = res.get("counts")
        what = (
            " / ".join(f"{counts[a]:,}" for a in ("create", "update", "delete", "unchanged"))
            if counts
            else "—"
        )
        if counts and not res["ok"]:
            what += f" **{res['errors']} errors** {res['file_error']} {res['first_errors']}"
        db = "n/a" if res["db_cpu"] is None else f"{res['db_cpu']:.1f}"
        print(
            f"| {label} | {what} | {len(res.get('checks', [])) if counts else '—'} | "
            f"{res['wall']:.1f} | {res['cpu']:.1f} | {db} | {res['rss_setup']:.0f} | "
            f"{res['rss_peak']:.0f} |"
        )
    for label, res in results:
        for line in res.get("checks", []):
            print(f"  {label}: check {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the deck")
    parser.add_argument(
        "--existing", type=int, default=0, help="rates in the plan before (default: --rows)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--profile",
        metavar="PHASE",
        help="run the phases up to PHASE (e.g. 'apply (CSV)') and print its cProfile top entries",
    )
    # Internal: one phase in this (fresh) process.
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--deck", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="update", help=argparse.SUPPRESS)
    parser.add_argument("--apply", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run_phase(args)
        return
    from bench.common import run_on_scratch_database

    run_on_scratch_database(bench, args)


if __name__ == "__main__":
    main()
