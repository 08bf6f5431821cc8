"""``manage.py route_service [--listen 127.0.0.1:8701] [--snapshot-dir DIR] [--tenant SLUG]``:
run the route service (``routing.engine.service``) in the foreground until SIGTERM/SIGINT.

One per host: the SIP edge (``deploy/kamailio/render.py --api-url``) sends its lookups
here over kept-alive connections; it answers 503 until its index is built.
"""

import asyncio
import ipaddress
import logging
import os
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from routing.engine.service import RouteService, serve
from routing.management.tenants import tenants_by_slug
from vmgate.wsgi import application  # the app's WSGI stack: the route fast path, then Django


def listen_address(value):
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        port = int(port)
    except ValueError as exc:
        raise CommandError(f"--listen: expected ADDRESS:PORT, got {value!r}") from exc
    if not sep or not 0 < port < 65536:
        raise CommandError(f"--listen: expected ADDRESS:PORT, got {value!r}")
    return host, port


class Command(BaseCommand):
    help = "Run the route service: one routing index per host, kept-alive HTTP for the SIP edge."

    def add_arguments(self, parser):
        parser.add_argument(
            "--listen",
            default="127.0.0.1:8701",
            help="address:port to listen on (default 127.0.0.1:8701; keep it on loopback)",
        )
        parser.add_argument(
            "--snapshot-dir",
            default=os.environ.get("VMGATE_ROUTE_SNAPSHOT_DIR") or None,
            help="keep index snapshots here and start from them (VMGATE_ROUTE_SNAPSHOT_DIR; "
            "PostgreSQL only; default: none, every start reads the database)",
        )
        parser.add_argument(
            "--tenant",
            action="append",
            metavar="SLUG",
            help="build only these tenants' indexes before answering (default: all)",
        )

    def handle(self, *args, listen, snapshot_dir=None, tenant=None, **options):
        host, port = listen_address(listen)
        if snapshot_dir is not None:
            Path(snapshot_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
        # None: every tenant, those created until the build included
        tenant_ids = list(tenants_by_slug(tenant).values()) if tenant else None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        # the service runs the fast path itself, then Django (application.app) for the rest
        service = RouteService(application.app, tenant_ids, host, port, snapshot_dir)
        self.stdout.write(f"route service on {host}:{port}: listens once its index is built")
        self.stdout.flush()
        asyncio.run(self.run(service))

    async def run(self, service):
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await serve(service)
        except asyncio.CancelledError:
            pass
