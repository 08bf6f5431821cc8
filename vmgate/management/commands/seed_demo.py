"""Demo data: two tenants with overlapping codes and IPs, logins printed at the end.

Idempotent: every row is looked up by its natural key before it is created, so running
the command twice leaves the same row counts.
"""

from datetime import UTC, datetime, time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from customers.models import (
    BalanceEntry,
    Customer,
    Rate,
    RatePlan,
    Trunk,
    TrunkNetwork,
    TrunkNumberList,
)
from dialpeers.models import Dialpeer
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingRule,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    SimSlot,
    TranslationRule,
    TranslationSet,
    VMGateClient,
)
from vmgate.models import Membership, Tenant

DEMO_PASSWORD = "demo-pass-2026"
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def _get(model, lookup, **defaults):
    obj, _ = model.objects.get_or_create(**lookup, defaults=defaults)
    return obj


def _opening_payment(customer, amount):
    """The balance moves only through balance entries: the demo's money is a payment."""
    if not customer.balance_entries.exists():
        BalanceEntry(
            customer=customer, kind=BalanceEntry.PAYMENT, amount=amount, reference="demo opening"
        ).save()


def seed_tenant(slug, name, *, ipv6=True):
    tenant = _get(Tenant, {"slug": slug}, name=name)
    t = {"tenant": tenant}
    plan = _get(RatePlan, {**t, "name": "Retail USD"}, currency="USD")
    for code, rate in [("374", "0.1200"), ("3749", "0.1500"), ("39", "0.0800"), ("", "0.2500")]:
        _get(
            Rate,
            {"rate_plan": plan, "code": code, "valid_since": SINCE},
            rate_per_min=Decimal(rate),
        )

    acme = _get(
        Customer,
        {**t, "name": "Acme Telecom"},
        country="AM",
        email="noc@acme.example",
        billing_type="prepaid",
    )
    _opening_payment(acme, Decimal("250.00"))
    globex = _get(
        Customer,
        {**t, "name": "Globex Carrier"},
        country="IT",
        billing_type="postpaid",
        credit_limit=Decimal("1000"),
        overdraft_allowed=True,
        overdraft_limit=Decimal("200"),
    )
    blocked = _get(
        Customer,
        {**t, "name": "Blocked Voice Ltd"},
        country="GB",
        billing_type="prepaid",
        status="blocked",
    )
    _opening_payment(blocked, Decimal("10"))

    acme_main = _get(
        Trunk,
        {"customer": acme, "name": "acme-sbc-1"},
        tenant=tenant,
        tech_prefix="1001",
        rate_plan=plan,
        codecs=["PCMA", "PCMU", "G729"],
    )
    globex_main = _get(
        Trunk,
        {"customer": globex, "name": "globex-switch"},
        tenant=tenant,
        tech_prefix="2002",
        rate_plan=plan,
        max_concurrent_calls=30,
    )
    _get(TrunkNetwork, {"trunk": acme_main, "network": "203.0.113.10/32"})
    _get(TrunkNetwork, {"trunk": acme_main, "network": "127.0.0.1/32"})
    _get(TrunkNetwork, {"trunk": globex_main, "network": "198.51.100.0/24"})
    if ipv6:
        _get(TrunkNetwork, {"trunk": globex_main, "network": "2001:db8:10::/48"})

    yerevan = _get(Network, {**t, "name": "Yerevan rack"})
    rome = _get(Network, {**t, "name": "Rome rack"})
    clients = []
    for i, (net, status, load) in enumerate(
        [(yerevan, "ready", 3), (yerevan, "ready", 1), (yerevan, "off", 0), (rome, "ready", 2)],
        start=1,
    ):
        c = _get(
            VMGateClient,
            {**t, "node_id": f"{slug}-node-{i}"},
            name=f"gw-{i:02d}",
            network=net,
            status=status,
            active_calls=load,
            sip_uri=f"sip:10.8.0.{10 + i}:5060",
        )
        for pos in (1, 2):
            _get(SimSlot, {"client": c, "position": pos}, label=f"SIM {pos}")
        clients.append(c)

    armenia = _get(RoutingRule, {**t, "code": "374", "trunk": None}, assignment="weight")
    italy = _get(RoutingRule, {**t, "code": "39", "trunk": None}, assignment="priority")
    anyrule = _get(RoutingRule, {**t, "code": "", "trunk": None})
    _get(RoutingTarget, {"rule": armenia, "network": yerevan}, weight=10)
    _get(RoutingTarget, {"rule": armenia, "client": clients[3]}, weight=1, priority=1)
    _get(RoutingTarget, {"rule": italy, "client": clients[3]}, priority=0)
    _get(RoutingTarget, {"rule": italy, "sim_slot": clients[0].slots.get(position=2)}, priority=1)
    _get(RoutingTarget, {"rule": anyrule, "network": rome})

    _get(
        Dialpeer,
        {**t, "customer": acme, "trunk": acme_main, "rule": armenia},
        name="Acme → Armenia",
    )
    _get(Dialpeer, {**t, "customer": acme, "trunk": acme_main, "rule": italy}, name="Acme → Italy")
    _get(
        Dialpeer,
        {**t, "customer": globex, "trunk": globex_main, "rule": italy},
        name="Globex → Italy",
    )
    _get(
        Dialpeer,
        {**t, "customer": globex, "trunk": globex_main, "rule": anyrule},
        name="Globex → anywhere (paused)",
        is_active=False,
    )
    seed_policy(tenant, acme_main)
    return tenant


def seed_policy(tenant, trunk):
    """Routing policy (SPEC §9) to look at: Acme's trunk turns Armenian national numbers
    (0 and 8 digits) into 374… and refuses premium ranges; an office-hours schedule waits
    to be put on a rule. None of it changes how the demo's other numbers route."""
    t = {"tenant": tenant}
    national = _get(TranslationSet, {**t, "name": "Armenia national (0…)"})
    _get(
        TranslationRule,
        {"translation_set": national, "position": 1},
        match="0([1-9][0-9]{7})",
        replace=r"374\1",
    )
    premium = _get(NumberList, {**t, "name": "Premium ranges"}, kind="deny")
    for value in ("900", "8090"):
        _get(NumberListEntry, {"number_list": premium, "value": value, "match": "prefix"})
    _get(TrunkNumberList, {"trunk": trunk, "number_list": premium})
    if trunk.ingress_translation_id != national.pk:
        trunk.ingress_translation = national
        trunk.save()
    office = _get(Schedule, {**t, "name": "Yerevan office hours"}, timezone="Asia/Yerevan")
    _get(
        ScheduleWindow,
        {"schedule": office, "start": time(9), "end": time(18)},
        weekdays=[1, 2, 3, 4, 5],
    )


def seed_user(username, tenant=None, role="operator", staff=False):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.is_staff = user.is_superuser = staff
        user.save()
    if tenant is not None:
        Membership.objects.get_or_create(user=user, defaults={"tenant": tenant, "role": role})
    return user


class Command(BaseCommand):
    help = "Create the demo tenants, their data and logins (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            first = seed_tenant("demo", "Demo Operator")
            second = seed_tenant("other", "Other Operator")
            seed_user("operator", first, "operator")
            seed_user("viewer", first, "viewer")
            seed_user("other-operator", second, "operator")
            seed_user("other-viewer", second, "viewer")
            seed_user("support", staff=True)
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  operator        – Demo Operator, read/write")
        self.stdout.write("  viewer          – Demo Operator, read only")
        self.stdout.write("  other-operator  – Other Operator, read/write")
        self.stdout.write("  other-viewer    – Other Operator, read only")
        self.stdout.write("  support         – platform staff, /admin/")
