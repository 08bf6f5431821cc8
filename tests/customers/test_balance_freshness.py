"""A payment recorded by ANOTHER process (another gunicorn worker, the admin, a script)
reaches this process's routing decisions within 1 s: the index polls the routing change
log at most every POLL_INTERVAL when this process wrote nothing itself."""

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from customers.models import Customer
from routing.engine import index as route_index
from routing.engine import route_call
from tests.factories import build_route_world

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
import django
django.setup()
from decimal import Decimal
from customers.models import BalanceEntry
BalanceEntry(customer_id={pk}, kind="payment", amount=Decimal("25.00"), reference="other").save()
"""


def database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_payment_from_another_process_routes_within_one_second(tenant):
    world = build_route_world(tenant)
    customer = world["customer"]
    Customer.objects.filter(pk=customer.pk).update(balance=0)
    route_index.reset()

    def decide():
        return route_call(tenant, called_number="9937412345", source_ip="203.0.113.5")

    assert decide().reason == "insufficient_balance"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "vmgate.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", RECORD.format(pk=customer.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    committed = time.monotonic()
    # Nothing written by this process since: only the periodic poll can bring the news.
    decision = decide()
    while not decision.routed and time.monotonic() - committed < 1.0:
        decision = decide()
    took = time.monotonic() - committed
    assert decision.routed, decision.reason
    assert took < 1.0
    assert route_index._indexes[tenant.pk].customers[customer.pk].balance == Decimal("25")
