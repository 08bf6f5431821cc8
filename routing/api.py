"""API of the routing app: networks, VMGateClients (with SIM slots), rules, targets (the
checks' API is in ``routing.checks.api``)."""

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from rest_framework import serializers

from routing.filtersets import (
    NetworkFilterSet,
    RoutingRuleFilterSet,
    RoutingTargetFilterSet,
    VMGateClientFilterSet,
)
from routing.models import (
    Network,
    RoutingRule,
    RoutingTarget,
    SimSlot,
    VMGateClient,
)
from vmgate.api import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    TenantModelSerializer,
    TenantModelViewSet,
)


class NetworkSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Network
        fields = ["id", "name"]


class NetworkViewSet(TenantModelViewSet):
    """Networks group VMGateClients. Delete is refused (409) while clients or targets use it."""

    model = Network
    serializer_class = NetworkSerializer
    filterset_class = NetworkFilterSet


class SimSlotSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = StrictIntegerField(min_value=1, max_value=8)
    enabled = StrictBooleanField(required=False, default=True)
    label = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class VMGateClientSerializer(TenantModelSerializer):
    """A VMGateClient with its SIM slots.

    ``status`` and ``active_calls`` are the live state the GSM side reports with PATCH.
    Writing ``slots`` replaces the list, matched by ``position`` (a slot keeps its id);
    a slot still used by a routing target cannot be removed.
    """

    slots = SimSlotSerializer(many=True, required=False, max_length=8)
    extra_attrs = ("slots",)

    class Meta(TenantModelSerializer.Meta):
        model = VMGateClient
        fields = ["id", "name", "node_id", "network", "status", "active_calls", "sip_uri", "slots"]

    def validate_slots(self, value):
        positions = [s["position"] for s in value]
        if len(set(positions)) != len(positions):
            raise serializers.ValidationError("Each slot position may appear only once.")
        return value

    def full_clean(self, instance, attrs):
        instance.full_clean()
        slots = attrs.get("slots")
        if slots is None or not instance.pk:
            return
        keep = {s["position"] for s in slots}
        used = (
            SimSlot.objects.filter(client=instance, targets__isnull=False)
            .exclude(position__in=keep)
            .values_list("position", flat=True)
            .distinct()
        )
        if used:
            positions = ", ".join(str(p) for p in sorted(used))
            raise ValidationError(
                {"slots": f"Slot {positions} is used by a routing target and cannot be removed."}
            )

    def save_instance(self, instance, attrs):
        instance.save()
        slots = attrs.get("slots")
        if slots is None:
            return
        existing = {s.position: s for s in instance.slots.all()}
        wanted = {s["position"]: s for s in slots}
        for position, slot in existing.items():
            if position not in wanted:
                try:
                    slot.delete()
                except ProtectedError as exc:  # a target appeared since validation
                    raise ValidationError(
                        {"slots": f"Slot {position} is used by a routing target."}
                    ) from exc
        for position, data in wanted.items():
            slot = existing.get(position) or SimSlot(client=instance, position=position)
            slot.enabled = data.get("enabled", True)
            slot.label = data.get("label", "")
            slot.full_clean()
            slot.save()
        if hasattr(instance, "_prefetched_objects_cache"):
            instance._prefetched_objects_cache.pop("slots", None)


class VMGateClientViewSet(TenantModelViewSet):
    """VMGateClients (gateway phones) with their SIM slots.

    ``PATCH /api/v1/clients/{id}/ {"status": "off", "active_calls": 3}`` reports live load;
    the very next routing decision uses it.
    """

    model = VMGateClient
    serializer_class = VMGateClientSerializer
    prefetch_related = ("slots",)
    filterset_class = VMGateClientFilterSet


class RoutingRuleSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingRule
        fields = ["id", "code", "label", "assignment", "trunk", "is_active"]


class RoutingRuleViewSet(TenantModelViewSet):
    """Routing rules (``code`` empty = catch-all). Delete is refused (409) while a
    dialpeer links the rule; its targets go with it."""

    model = RoutingRule
    serializer_class = RoutingRuleSerializer
    filterset_class = RoutingRuleFilterSet


class RoutingTargetSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingTarget
        fields = ["id", "rule", "network", "client", "sim_slot", "priority", "weight", "is_active"]


class RoutingTargetViewSet(TenantModelViewSet):
    """Targets of routing rules: exactly one of ``network``, ``client`` or ``sim_slot``."""

    model = RoutingTarget
    serializer_class = RoutingTargetSerializer
    filterset_class = RoutingTargetFilterSet
