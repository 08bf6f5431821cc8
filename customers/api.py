"""API of the customers app: customers, trunks (with their networks), rate plans, rates."""

import django_filters
from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework import mixins, serializers, viewsets

from customers.filtersets import (
    CustomerFilterSet,
    RateFilterSet,
    RatePlanFilterSet,
    TrunkFilterSet,
)
from customers.models import (
    AMOUNT_ERRORS,
    CODECS,
    BalanceEntry,
    Customer,
    Rate,
    RatePlan,
    Trunk,
    TrunkNetwork,
    find_overlap,
    ingress_checked_on_completion,
    overlap_message,
)
from customers.netutils import normalise_network
from vmgate.api import (
    APIViewMixin,
    StandardPagination,
    StrictCharField,
    StrictChoiceField,
    StrictFilterBackend,
    TenantModelSerializer,
    TenantModelViewSet,
    TenantPrimaryKeyRelatedField,
    drf_errors,
)
from vmgate.tenancy import parse_pk, scoped


class CustomerSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Customer
        fields = [
            "id",
            "name",
            "country",
            "email",
            "phone",
            "billing_type",
            "balance",
            "credit_limit",
            "credit_unlimited",
            "overdraft_allowed",
            "overdraft_limit",
            "status",
        ]
        # Moved only by balance entries (POST /api/v1/balance-entries/).
        read_only_fields = ["balance"]


class CustomerViewSet(TenantModelViewSet):
    """Customers: the carriers that send SIP to the tenant. Delete is refused (409) while
    the customer has trunks."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet


class NetworksField(serializers.ListField):
    """The trunk's authorized networks as a list of strings (read from the related rows)."""

    def to_representation(self, data):
        rows = data.all() if hasattr(data, "all") else data
        return sorted(getattr(n, "network", n) for n in rows)


class TrunkSerializer(TenantModelSerializer):
    """A trunk with its authorized networks as a list of strings (hosts or CIDR ranges).

    Writing ``networks`` replaces the trunk's list; each entry is normalised
    (``203.0.113.10`` → ``203.0.113.10/32``) and refused like in the UI (host bits, ``/0``,
    zone ids, duplicates, overlap with another trunk of the same tech prefix).
    """

    codecs = serializers.ListField(
        child=StrictChoiceField(choices=CODECS),
        allow_empty=False,
        max_length=len(CODECS),
        required=False,
        help_text="Subset of " + ", ".join(CODECS) + " (default PCMA, PCMU).",
    )
    networks = NetworksField(
        child=StrictCharField(max_length=64),
        allow_empty=False,
        max_length=100,
        help_text="Authorized source hosts or CIDR ranges, e.g. 203.0.113.10/32.",
    )
    number_lists = TenantPrimaryKeyRelatedField(
        many=True,
        # routing.NumberList, reached through the model (customers does not import routing)
        queryset=Trunk._meta.get_field("number_lists").related_model._default_manager.all(),
        required=False,
        help_text="Ids of the number lists checked on every call: a matching deny list or "
        "a non-matching allow list refuses it (403). Writing it replaces the trunk's lists.",
    )
    extra_attrs = ("networks", "number_lists")

    class Meta(TenantModelSerializer.Meta):
        model = Trunk
        fields = [
            "id",
            "customer",
            "name",
            "tech_prefix",
            "rate_plan",
            "max_concurrent_calls",
            "max_cps",
            "codecs",
            "status",
            "networks",
            "ingress_translation",
            "number_lists",
        ]

    def validate_number_lists(self, value):
        if len({n.pk for n in value}) != len(value):
            raise serializers.ValidationError("A number list is listed twice.")
        return value

    def validate_networks(self, value):
        normalised, errors = [], []
        for raw in value:
            try:
                net = normalise_network(raw)
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            if net in normalised:
                errors.append(f"{net} is listed twice.")
            normalised.append(net)
        if errors:
            raise serializers.ValidationError(errors)
        return normalised

    def full_clean(self, instance, attrs):
        networks = attrs.get("networks")
        try:
            instance.full_clean()
        except ValidationError as exc:
            if networks is None or not instance.pk:
                raise
            # The model checks the overlap with the networks saved now; they are being
            # replaced, so that message does not apply (the new list is checked below).
            stale = find_overlap(
                instance.tenant_id,
                instance.tech_prefix,
                list(TrunkNetwork.objects.filter(trunk=instance).values_list("network", flat=True)),
                exclude_trunk=instance.pk,
            )
            errors = exc.message_dict
            if stale and errors.get("tech_prefix") == [overlap_message(*stale)]:
                del errors["tech_prefix"]
            if errors:
                raise ValidationError(errors) from exc
        if networks:
            clash = find_overlap(
                instance.tenant_id, instance.tech_prefix, networks, exclude_trunk=instance.pk
            )
            if clash:
                raise ValidationError({"networks": overlap_message(*clash)})

    def save_instance(self, instance, attrs):
        with ingress_checked_on_completion():  # the prefix and the networks, together
            instance.save()
            networks = attrs.get("networks")
            if networks is not None:
                existing = {n.network: n for n in instance.networks.all()}
                for net, row in existing.items():
                    if net not in networks:
                        row.delete()
                for net in networks:
                    if net not in existing:
                        TrunkNetwork(trunk=instance, network=net).save()
        lists = attrs.get("number_lists")
        if lists is None and self.instance is not None and not self.partial:
            lists = []  # PUT replaces the trunk: no lists given, none checked
        if lists is not None:
            instance.number_lists.set(lists)
        # The representation reads the fresh lists.
        if hasattr(instance, "_prefetched_objects_cache"):
            instance._prefetched_objects_cache.pop("networks", None)
            instance._prefetched_objects_cache.pop("number_lists", None)


class TrunkViewSet(TenantModelViewSet):
    """Trunks: a customer's SIP ingress. Delete is refused (409) while dialpeers or
    trunk-scoped rules use the trunk."""

    model = Trunk
    serializer_class = TrunkSerializer
    select_related = ("customer",)
    prefetch_related = ("networks", "number_lists")
    filterset_class = TrunkFilterSet


class RatePlanSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RatePlan
        fields = ["id", "name", "currency", "status"]


class RatePlanViewSet(TenantModelViewSet):
    """Rate plans. Delete is refused (409) while a trunk uses the plan; its rates go with it."""

    model = RatePlan
    serializer_class = RatePlanSerializer
    filterset_class = RatePlanFilterSet


class RateSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Rate
        fields = [
            "id",
            "rate_plan",
            "code",
            "description",
            "valid_since",
            "rate_per_min",
            "connection_fee",
            "connection_sec",
            "billing_block_sec",
        ]


class RateApiFilterSet(RateFilterSet):
    """The UI's rate filters (code prefix, valid at) plus the plan, which the UI takes from
    the URL of the plan's page."""

    rate_plan = django_filters.ModelChoiceFilter(
        queryset=lambda request: scoped(RatePlan, getattr(request, "tenant", None)),
        label="Rate plan",
    )

    class Meta(RateFilterSet.Meta):
        fields = ["rate_plan", *RateFilterSet.Meta.fields]


class RateViewSet(TenantModelViewSet):
    """Rates of the tenant's rate plans (filter with ``?rate_plan=<id>``)."""

    model = Rate
    serializer_class = RateSerializer
    filterset_class = RateApiFilterSet


# Balance entries ----------------------------------------------------------------------------


class BalanceEntrySerializer(TenantModelSerializer):
    """A payment or adjustment of a customer's balance. Write ``customer``, ``kind``,
    ``amount`` (a decimal string, 2 places), ``reference`` and ``note``; the rest is
    recorded. Saving it moves the balance at once; entries are never edited or deleted."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta(TenantModelSerializer.Meta):
        model = BalanceEntry
        fields = [
            "id",
            "customer",
            "kind",
            "amount",
            "reference",
            "note",
            "created_by",
            "created_at",
            "balance_after",
        ]
        read_only_fields = ["created_at", "balance_after"]
        extra_kwargs = {"amount": {"error_messages": AMOUNT_ERRORS}}

    def save_instance(self, instance, attrs):
        instance.created_by = self.context["request"].user
        try:
            instance.save()
        except ValidationError as exc:  # the balance would leave its range meanwhile
            raise serializers.ValidationError(drf_errors(exc)) from exc


class BalanceEntryFilterSet(django_filters.FilterSet):
    customer = django_filters.ModelChoiceFilter(
        queryset=lambda request: scoped(Customer, getattr(request, "tenant", None)),
        label="Customer",
    )
    kind = django_filters.ChoiceFilter(choices=BalanceEntry.KIND_CHOICES)
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Recorded at or after (ISO 8601)"
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Recorded before (ISO 8601)"
    )

    class Meta:
        model = BalanceEntry
        fields = ["customer", "kind", "created_after", "created_before"]


class BalanceEntryViewSet(
    APIViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Balance entries (payments and adjustments), newest first. List, read and create
    only: an entry is never edited or deleted (PUT, PATCH and DELETE answer 405); correct a
    mistake with another adjustment."""

    model = BalanceEntry
    serializer_class = BalanceEntrySerializer
    filterset_class = BalanceEntryFilterSet
    filter_backends = [StrictFilterBackend]
    pagination_class = StandardPagination
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request tenant
            return BalanceEntry.objects.none()
        return scoped(BalanceEntry, self.tenant).select_related("created_by").order_by("-id")

    def get_object(self):
        if parse_pk(self.kwargs.get(self.lookup_field)) is None:
            raise Http404
        return super().get_object()
