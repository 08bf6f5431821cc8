"""``manage.py route_snapshot --dir DIR [--tenant SLUG …]``: write the routing index snapshots
the route service starts from (``routing.engine.index.write_snapshot``; PostgreSQL only).

The route service runs this itself (niced, in a process of its own, so that reading a
million rows never holds its interpreter) after its first build and every 30 minutes; run
it by hand or from cron to refresh the snapshots of a service that was started without
``--snapshot-dir``.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from routing.engine import index
from routing.management.tenants import tenants_by_slug


class Command(BaseCommand):
    help = "Write the route service's index snapshots (every tenant, or the ones named)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", required=True, help="the route service's --snapshot-dir")
        parser.add_argument("--tenant", action="append", metavar="SLUG", help="only this tenant")

    def handle(self, *args, dir, tenant=None, **options):  # noqa: A002 - the option's name
        if connection.vendor != "postgresql":
            raise CommandError("Snapshots need PostgreSQL (they keep a transaction id).")
        tenants = tenants_by_slug(tenant)
        directory = Path(dir)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for slug, pk in tenants.items():
            started = time.monotonic()
            index.write_snapshot(pk, index.snapshot_path(directory, pk))
            self.stdout.write(f"{slug}: written in {time.monotonic() - started:.1f} s")
