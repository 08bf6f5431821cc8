"""Valid objects for tests. Every factory builds a consistent tenant graph through SubFactory:
a Trunk's tenant is its customer's tenant, a Dialpeer's customer is its trunk's customer."""

from datetime import UTC, datetime
from datetime import time as datetime_time
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from customers.models import Customer, Rate, RatePlan, Trunk, TrunkNetwork
from dialpeers.models import Dialpeer
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingCheck,
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


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Membership.OPERATOR


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    country = "AM"
    billing_type = Customer.PREPAID
    balance = Decimal("100")


class RatePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RatePlan

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rate

    rate_plan = factory.SubFactory(RatePlanFactory)
    code = "374"
    valid_since = datetime(2026, 1, 1, tzinfo=UTC)
    rate_per_min = Decimal("0.1")


class TrunkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trunk

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    name = factory.Sequence(lambda n: f"trunk-{n}")
    tech_prefix = factory.Sequence(lambda n: f"{100 + n % 900}")


class TrunkNetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrunkNetwork

    trunk = factory.SubFactory(TrunkFactory)
    network = factory.Sequence(lambda n: f"10.{n // 250 % 250}.{n % 250}.0/24")


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Network {n}")


class TranslationSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TranslationSet

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Translation {n}")


class TranslationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TranslationRule

    translation_set = factory.SubFactory(TranslationSetFactory)
    position = factory.Sequence(lambda n: n + 1)
    match = "0([0-9]+)"
    replace = "374\\1"
    stop = True


class NumberListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberList

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"List {n}")
    kind = "deny"
    applies_to = "called"


class NumberListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NumberListEntry

    number_list = factory.SubFactory(NumberListFactory)
    value = factory.Sequence(lambda n: f"{900 + n}")
    match = "prefix"


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Schedule {n}")
    timezone = "Europe/Berlin"


class ScheduleWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleWindow

    schedule = factory.SubFactory(ScheduleFactory)
    weekdays = factory.LazyFunction(lambda: [1, 2, 3, 4, 5])
    start = datetime_time(9, 0)
    end = datetime_time(17, 0)


class VMGateClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VMGateClient

    network = factory.SubFactory(NetworkFactory)
    tenant = factory.SelfAttribute("network.tenant")
    name = factory.Sequence(lambda n: f"gw-{n}")
    node_id = factory.Sequence(lambda n: f"node-{n}")
    status = VMGateClient.READY
    sip_uri = factory.Sequence(lambda n: f"sip:10.9.{n // 250 % 250}.{n % 250}:5060")


class SimSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SimSlot

    client = factory.SubFactory(VMGateClientFactory)
    position = 1


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    tenant = factory.SubFactory(TenantFactory)
    code = "374"


class RoutingTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingTarget

    rule = factory.SubFactory(RoutingRuleFactory)
    client = factory.SubFactory(
        VMGateClientFactory, network__tenant=factory.SelfAttribute("...rule.tenant")
    )


class DialpeerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dialpeer

    trunk = factory.SubFactory(TrunkFactory)
    customer = factory.SelfAttribute("trunk.customer")
    tenant = factory.SelfAttribute("trunk.tenant")
    rule = factory.SubFactory(RoutingRuleFactory, tenant=factory.SelfAttribute("..tenant"))
    name = factory.Sequence(lambda n: f"Dialpeer {n}")


class RoutingCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingCheck

    trunk = factory.SubFactory(TrunkFactory)
    tenant = factory.SelfAttribute("trunk.tenant")
    name = factory.Sequence(lambda n: f"Check {n}")
    called_number = "37412345"
    expected_outcome = "routed"


def build_route_world(tenant, *, plan_name="Retail", **rule_fields):
    """Tenant A: trunk (prefix 99, 203.0.113.0/24) → dialpeer → rule 374 → two clients
    (gw-a weight 10 / priority 1, gw-b weight 5 / priority 2) and a rate for 374."""
    plan = RatePlanFactory(tenant=tenant, name=plan_name)
    RateFactory(rate_plan=plan, code="374", rate_per_min=Decimal("0.05"))
    customer = CustomerFactory(tenant=tenant, name="Carrier", balance=Decimal("10"))
    trunk = TrunkFactory(customer=customer, name="in-1", tech_prefix="99", rate_plan=plan)
    TrunkNetworkFactory(trunk=trunk, network="203.0.113.0/24")
    rule = RoutingRuleFactory(tenant=tenant, code="374", **rule_fields)
    network = NetworkFactory(tenant=tenant, name="Yerevan")
    gw_a = VMGateClientFactory(network=network, name="gw-a", sip_uri="sip:10.8.0.12:5060")
    gw_b = VMGateClientFactory(network=network, name="gw-b", sip_uri="sip:10.8.0.13:5070")
    RoutingTargetFactory(rule=rule, client=gw_a, weight=10, priority=1)
    RoutingTargetFactory(rule=rule, client=gw_b, weight=5, priority=2)
    dialpeer = DialpeerFactory(trunk=trunk, customer=customer, rule=rule, name="AM", tenant=tenant)
    return {
        "plan": plan,
        "customer": customer,
        "trunk": trunk,
        "rule": rule,
        "gw_a": gw_a,
        "gw_b": gw_b,
        "dialpeer": dialpeer,
    }


def build_imports(tenant):
    """An import previewed and kept (an ImportUpload of networks) and one applied (its
    ImportRun), in ``tenant``: the objects the import pages' ids name."""
    from vmgate.import_kinds import KINDS
    from vmgate.imports import run_import
    from vmgate.models import ImportRun, ImportUpload

    content = b"name\nGyumri\n"
    preview = run_import(tenant, KINDS["networks"], "gsm.csv", content)
    upload = ImportUpload.objects.create(
        tenant=tenant,
        kind="networks",
        mode="update",
        filename="gsm.csv",
        content=content,
        fingerprint=preview.fingerprint(),
        preview=preview.as_dict(),
    )
    applied = run_import(tenant, KINDS["networks"], "gsm.csv", b"name\nVanadzor\n", apply=True)
    return upload, ImportRun.objects.get(pk=applied.run_id)


def armenia_mobile_check(world, **fields):
    """A saved check that build_route_world routes (9937412345 on trunk in-1 via rule 374):
    deactivating rule 374 makes it fail."""
    return RoutingCheckFactory(
        trunk=world["trunk"],
        name="Armenia mobile",
        called_number="9937412345",
        expected_outcome="routed",
        **fields,
    )
