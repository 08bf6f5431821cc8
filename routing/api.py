"""API of the routing app: networks, VMGateClients (with SIM slots), rules, targets, and
the routing policy of SPEC §9 — translation sets and rules, number lists and entries,
schedules and windows (the checks' API is in ``routing.checks.api``)."""

import re
from datetime import time

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from routing import policy
from routing.filtersets import (
    NetworkFilterSet,
    NumberListEntryFilterSet,
    NumberListFilterSet,
    RoutingRuleFilterSet,
    RoutingTargetFilterSet,
    ScheduleFilterSet,
    TranslationSetFilterSet,
    VMGateClientFilterSet,
)
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
from vmgate.api import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictTypeMixin,
    TenantModelSerializer,
    TenantModelViewSet,
)
from vmgate.filtersets import TenantFilterSet


class NetworkSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Network
        fields = ["id", "name", "egress_translation"]


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
        fields = ["id", "code", "label", "assignment", "trunk", "schedule", "is_active"]


class RoutingRuleViewSet(TenantModelViewSet):
    """Routing rules (``code`` empty = catch-all). Delete is refused (409) while a
    dialpeer links the rule; its targets go with it."""

    model = RoutingRule
    serializer_class = RoutingRuleSerializer
    filterset_class = RoutingRuleFilterSet


class RoutingTargetSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingTarget
        fields = [
            "id",
            "rule",
            "network",
            "client",
            "sim_slot",
            "priority",
            "weight",
            "schedule",
            "is_active",
        ]


class RoutingTargetViewSet(TenantModelViewSet):
    """Targets of routing rules: exactly one of ``network``, ``client`` or ``sim_slot``."""

    model = RoutingTarget
    serializer_class = RoutingTargetSerializer
    filterset_class = RoutingTargetFilterSet


# --- routing policy (SPEC §9) ----------------------------------------------------------------


LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
_LOCAL_TIME = re.compile(LOCAL_TIME[1:-1])


@extend_schema_field(
    {
        "type": "string",
        "pattern": LOCAL_TIME,
        "example": "09:00",
        "description": "Local wall-clock time, HH:MM or HH:MM:SS (24-hour, no offset).",
    }
)
class LocalTimeField(StrictTypeMixin, serializers.TimeField):
    """A schedule's local time: ``HH:MM`` or ``HH:MM:SS``, nothing else (no offset: the
    schedule's time zone says where; OpenAPI's ``format: time`` would demand one)."""

    expected_types, type_name = (str,), "time string (HH:MM or HH:MM:SS)"

    def to_internal_value(self, value):
        if not isinstance(value, str):
            return super().to_internal_value(value)  # refused: "Must be a time string …"
        if _LOCAL_TIME.fullmatch(value) is None:
            raise serializers.ValidationError(
                "Enter a local time as HH:MM or HH:MM:SS (24-hour, no offset).", code="invalid"
            )
        hours, minutes, *seconds = value.split(":")
        return time(int(hours), int(minutes), int(seconds[0]) if seconds else 0)


class TranslationSetSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = TranslationSet
        fields = ["id", "name"]


class TranslationSetViewSet(TenantModelViewSet):
    """Translation sets: ordered number rewrites (their rules are
    ``/api/v1/translation-rules/?translation_set=<id>``). Delete is refused (409) while a
    trunk (ingress) or a network (egress) uses the set; its rules go with it."""

    model = TranslationSet
    serializer_class = TranslationSetSerializer
    filterset_class = TranslationSetFilterSet


class TranslationRuleSerializer(TenantModelSerializer):
    """One rule of a set: ``match`` (a regular expression matched against the whole
    number; at most 200 characters, no backreferences, bounded backtracking) becomes
    ``replace`` (digits and ``\\1``-style groups of ``match``); ``stop`` ends the set."""

    class Meta(TenantModelSerializer.Meta):
        model = TranslationRule
        fields = ["id", "translation_set", "position", "match", "replace", "stop"]


class TranslationRuleFilterSet(TenantFilterSet):
    translation_set = django_filters.ModelChoiceFilter(
        queryset=TranslationSet.objects.all(), label="Translation set"
    )

    class Meta:
        model = TranslationRule
        fields = []


class TranslationRuleViewSet(TenantModelViewSet):
    """Rules of the tenant's translation sets, in position order (filter with
    ``?translation_set=<id>``). A position is unique within its set."""

    model = TranslationRule
    serializer_class = TranslationRuleSerializer
    filterset_class = TranslationRuleFilterSet

    def get_queryset(self):
        return super().get_queryset().order_by("translation_set_id", "position", "id")


class NumberListSerializer(TenantModelSerializer):
    # Its OpenAPI enum is NumberListKindEnum, beside the balance entries' KindEnum
    # (ENUM_NAME_OVERRIDES in vmgate/settings.py).

    class Meta(TenantModelSerializer.Meta):
        model = NumberList
        fields = ["id", "name", "kind", "applies_to"]


class NumberListViewSet(TenantModelViewSet):
    """Number lists: ``deny`` or ``allow``, of the ``called`` or the ``calling`` number
    (their entries are ``/api/v1/number-list-entries/?number_list=<id>``). Delete is
    refused (409) while a trunk checks the list; its entries go with it."""

    model = NumberList
    serializer_class = NumberListSerializer
    filterset_class = NumberListFilterSet


class NumberListEntrySerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = NumberListEntry
        fields = ["id", "number_list", "value", "match", "note"]


class NumberListEntryApiFilterSet(NumberListEntryFilterSet):
    """The list page's entry filters (``q``: a value prefix or words of the note; ``match``)
    plus the list, which the page takes from its URL."""

    number_list = django_filters.ModelChoiceFilter(
        queryset=NumberList.objects.all(), label="Number list"
    )

    class Meta(NumberListEntryFilterSet.Meta):
        fields = ["number_list", *NumberListEntryFilterSet.Meta.fields]


class NumberListEntryViewSet(TenantModelViewSet):
    """Entries of the tenant's number lists (filter with ``?number_list=<id>``; a list can
    hold tens of thousands: page through them; ``?q=`` a value prefix or words of the note).
    Unique per list: (``value``, ``match``)."""

    model = NumberListEntry
    serializer_class = NumberListEntrySerializer
    filterset_class = NumberListEntryApiFilterSet

    def get_queryset(self):
        return super().get_queryset().order_by("number_list_id", "value", "match", "id")


class ScheduleSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = Schedule
        fields = ["id", "name", "timezone"]


class ScheduleViewSet(TenantModelViewSet):
    """Schedules: weekly windows of local time in one IANA time zone (their windows are
    ``/api/v1/schedule-windows/?schedule=<id>``). Delete is refused (409) while a routing
    rule or target uses the schedule; its windows go with it."""

    model = Schedule
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilterSet


class ScheduleWindowSerializer(TenantModelSerializer):
    """Open on ``weekdays`` (Monday = 1 … Sunday = 7) from ``start`` to ``end``, local
    time; ``end`` at or before ``start`` runs past midnight (counted for the start's day)."""

    weekdays = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=7),
        allow_empty=False,
        min_length=1,
        max_length=7,
        help_text="Distinct weekdays, Monday = 1 … Sunday = 7.",
    )
    start = LocalTimeField()
    end = LocalTimeField(help_text="At or before the start: runs past midnight.")

    class Meta(TenantModelSerializer.Meta):
        model = ScheduleWindow
        fields = ["id", "schedule", "weekdays", "start", "end"]

    def validate_weekdays(self, value):
        # routing.policy's message: the model field's validator is reported under JSONField's
        # own message for the code "invalid" ("Value must be valid JSON.").
        try:
            return policy.check_weekdays(value)
        except policy.PolicyError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ScheduleWindowFilterSet(TenantFilterSet):
    schedule = django_filters.ModelChoiceFilter(queryset=Schedule.objects.all(), label="Schedule")

    class Meta:
        model = ScheduleWindow
        fields = []


class ScheduleWindowViewSet(TenantModelViewSet):
    """Windows of the tenant's schedules (filter with ``?schedule=<id>``)."""

    model = ScheduleWindow
    serializer_class = ScheduleWindowSerializer
    filterset_class = ScheduleWindowFilterSet

    def get_queryset(self):
        return super().get_queryset().order_by("schedule_id", "start", "id")
