"""Prepare (and afterwards undo) what bench/sip_bench.sh needs in the bench database.

    DATABASE_URL=... python bench/sip_bench_setup.py prepare --out DIR
    DATABASE_URL=... python bench/sip_bench_setup.py cleanup --out DIR

prepare: picks the trunk with the most active dialpeers, authorizes 127.0.0.1/32 on it (sipp
sends from there), creates the login ``sip-bench`` (operator of that tenant) with an API token
(DIR/token, mode 0600), and writes DIR/numbers.csv: up to --numbers called numbers (tech
prefix + a linked rule's code + digits), each checked with route_call to be routed, for
sipp's -inf. DIR/state.json records what to remove; cleanup removes exactly that.
"""

import argparse
import io
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count, Q  # noqa: E402

from customers.models import Trunk, TrunkNetwork  # noqa: E402
from dialpeers.models import Dialpeer  # noqa: E402
from routing.engine import route_call  # noqa: E402
from vmgate.models import Membership  # noqa: E402

SOURCE_IP = "127.0.0.1"
USERNAME = "sip-bench"


def prepare(out: Path, wanted: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    trunk = (
        Trunk.objects.annotate(n=Count("dialpeers", filter=Q(dialpeers__is_active=True)))
        .select_related("tenant", "customer")
        .order_by("-n", "id")
        .first()
    )
    if trunk is None:
        sys.exit("no trunk in this database: build the 1M data set first (bench/README.md)")
    tenant = trunk.tenant
    state = {"trunk": trunk.pk, "network": None, "user": None}

    if not trunk.networks.filter(network__in=["127.0.0.1/32", "127.0.0.0/8"]).exists():
        net = TrunkNetwork(trunk=trunk, network=f"{SOURCE_IP}/32")
        net.full_clean()
        net.save()
        state["network"] = net.pk

    User = get_user_model()
    user, created = User.objects.get_or_create(username=USERNAME)
    if created:
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, tenant=tenant, role=Membership.OPERATOR)
        state["user"] = user.pk
    key_out = io.StringIO()
    call_command("create_api_token", USERNAME, stdout=key_out, stderr=io.StringIO())
    key = key_out.getvalue().strip().splitlines()[-1]
    fd = os.open(out / "token", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    (out / "state.json").write_text(json.dumps(state))
    # the SIP edge's group of authorized sources (render.py --tenant-id): the app runs with
    # DJANGO_DEBUG=0 here, where GET /api/v1/me/ over plain HTTP is redirected to HTTPS
    (out / "tenant_id").write_text(f"{tenant.pk}\n")

    codes = list(
        Dialpeer.objects.filter(trunk=trunk, is_active=True, rule__is_active=True)
        .order_by("?")
        .values_list("rule__code", flat=True)[: wanted * 5]
    )
    rng = random.Random(8)
    numbers, seen = [], set()
    for attempt in range(wanted * 3):
        code = codes[attempt % len(codes)] if codes else ""
        tail = "".join(rng.choice("0123456789") for _ in range(max(1, 12 - len(code))))
        number = f"{trunk.tech_prefix}{code}{tail}"[: len(trunk.tech_prefix) + 24]
        if number in seen:
            continue
        seen.add(number)
        decision = route_call(tenant, called_number=number, source_ip=SOURCE_IP)
        if decision.outcome == "routed":
            numbers.append(number)
        if len(numbers) >= wanted:
            break
    if not numbers:
        sys.exit(f"no routed number found on trunk {trunk} (id {trunk.pk})")
    (out / "numbers.csv").write_text("RANDOM\n" + "".join(f"{n};\n" for n in numbers))
    active = Dialpeer.objects.filter(tenant=tenant, is_active=True).count()
    print(
        f"tenant {tenant.slug}: {active} active dialpeers; trunk {trunk.pk} "
        f"(tech prefix {trunk.tech_prefix}, {trunk.n} active dialpeers); "
        f"{len(numbers)} routed numbers"
    )


def cleanup(out: Path) -> None:
    state_file = out / "state.json"
    if not state_file.exists():
        return
    state = json.loads(state_file.read_text())
    if state.get("network"):
        TrunkNetwork.objects.filter(pk=state["network"]).delete()
    User = get_user_model()
    if state.get("user"):
        User.objects.filter(pk=state["user"]).delete()
    state_file.unlink()
    (out / "token").unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("action", choices=["prepare", "cleanup"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--numbers", type=int, default=2000)
    args = p.parse_args()
    if args.action == "prepare":
        prepare(args.out, args.numbers)
    else:
        cleanup(args.out)


if __name__ == "__main__":
    main()
