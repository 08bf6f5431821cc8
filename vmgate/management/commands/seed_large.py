"""``manage.py seed_large``: fill one tenant with operator-scale data for benchmarks.

Each area's generator lives in ``bench/gen_<area>.py``; this command creates the tenant and
an operator login, then calls them. Other areas add their own options and a call below
(e.g. ``--networks``, ``--dialpeers``) without changing the existing ones.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bench.gen_customers import generate
from vmgate.models import Membership, Tenant


class Command(BaseCommand):
    help = "Fill a (new) tenant with many customers, trunks and a large rate plan."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", default="bench", help="tenant slug (created if missing)")
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--trunks", type=int, default=50_000)
        parser.add_argument("--rates", type=int, default=100_000, help="rates of the big plan")
        parser.add_argument("--plans", type=int, default=20, help="small rate plans")
        parser.add_argument(
            "--operator", default=None, help="login to create (default: <tenant>-op, password pw)"
        )

    def handle(self, *args, **opts):
        slug = opts["tenant"]
        tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": f"Tenant {slug}"})
        username = opts["operator"] or f"{slug}-op"
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_password("pw")
            user.save()
        Membership.objects.get_or_create(user=user, defaults={"tenant": tenant})
        self.stdout.write(f"Seeding tenant {slug} (login {username} / pw):")
        try:
            counts = generate(
                tenant,
                customers=opts["customers"],
                trunks=opts["trunks"],
                rates=opts["rates"],
                plans=opts["plans"],
                log=self.stdout.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Done: {counts}"))
