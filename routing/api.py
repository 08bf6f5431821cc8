"""API of the routing app: networks, VMGateClients (with SIM slots), rules, targets, checks."""

from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from routing import engine
from routing.filtersets import (
    NetworkFilterSet,
    RoutingCheckFilterSet,
    RoutingRuleFilterSet,
    RoutingTargetFilterSet,
    VMGateClientFilterSet,
)
from routing.models import (
    Network,
    RoutingCheck,
    RoutingRule,
    RoutingTarget,
    SimSlot,
    VMGateClient,
)
from vmgate.api import (
    APIViewMixin,
    StrictBooleanField,
    StrictCharField,
    StrictDateTimeField,
    StrictIntegerField,
    TenantModelSerializer,
    TenantModelViewSet,
)
from vmgate.api_auth import TenantPermission


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


class RoutingCheckSerializer(TenantModelSerializer):
    class Meta(TenantModelSerializer.Meta):
        model = RoutingCheck
        fields = [
            "id",
            "name",
            "trunk",
            "source_ip",
            "called_number",
            "at",
            "expected_outcome",
            "expected_reason",
            "expected_rule",
            "last_passed",
            "last_result",
            "last_run_at",
        ]
        read_only_fields = ["last_passed", "last_result", "last_run_at"]


class RoutingCheckViewSet(TenantModelViewSet):
    """Saved routing checks: (trunk or source IP, number) → expected outcome and rule."""

    model = RoutingCheck
    serializer_class = RoutingCheckSerializer
    filterset_class = RoutingCheckFilterSet


# --------------------------------------------------------------------------- route lookup


class RouteLookupSerializer(serializers.Serializer):
    """A route lookup: the called number and exactly one of ``trunk`` and ``source_ip``."""

    called_number = StrictCharField(
        max_length=64,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The raw called number (R-URI user part), tech prefix included.",
    )
    trunk = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Ingress trunk id (instead of source_ip).",
    )
    source_ip = StrictCharField(
        required=False,
        max_length=64,
        trim_whitespace=False,
        help_text="Source IP of the INVITE (instead of trunk); IPv4 or IPv6.",
    )
    at = StrictDateTimeField(
        required=False, help_text="Call time for the rate lookup (ISO 8601; default now)."
    )
    explain = StrictBooleanField(
        required=False,
        default=False,
        help_text="List every candidate rule and skipped target; never advances the rotation.",
    )

    def validate_source_ip(self, value):
        try:
            engine.parse_source_ip(value)
        except engine.IngressError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs):
        if ("trunk" in attrs) == ("source_ip" in attrs):
            raise serializers.ValidationError("Give exactly one of trunk and source_ip.")
        return attrs


def _nullable(serializer):
    serializer.allow_null = True
    return serializer


class _Named(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _TrunkRef(_Named):
    tech_prefix = serializers.CharField()


class _RuleRef(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True)
    label = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    assignment = serializers.CharField()
    trunk_id = serializers.IntegerField(allow_null=True)


class _ClientRef(_Named):
    sip_uri = serializers.CharField(allow_blank=True)
    active_calls = serializers.IntegerField()


class _SlotRef(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()


class _Target(serializers.Serializer):
    client = _ClientRef()
    sim_slot = _SlotRef(allow_null=True)
    target_id = serializers.IntegerField()
    via = serializers.ChoiceField(choices=["network", "client", "sim_slot"])
    priority = serializers.IntegerField()
    weight = serializers.IntegerField()


class _Rate(serializers.Serializer):
    id = serializers.IntegerField()
    plan = _Named()
    code = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    valid_since = serializers.DateTimeField()
    rate_per_min = serializers.DecimalField(max_digits=12, decimal_places=6)
    connection_fee = serializers.DecimalField(max_digits=12, decimal_places=6)
    connection_sec = serializers.IntegerField()
    billing_block_sec = serializers.IntegerField()
    currency = serializers.CharField()


REASONS = [
    engine.ROUTED,
    engine.INVALID_NUMBER,
    engine.UNKNOWN_SOURCE,
    engine.TECH_PREFIX_MISMATCH,
    engine.TRUNK_DISABLED,
    engine.CUSTOMER_BLOCKED,
    engine.INSUFFICIENT_BALANCE,
    engine.NO_ROUTE,
    engine.NO_TARGET,
    engine.NO_RATE,
]


class RouteDecisionSerializer(serializers.Serializer):
    """The decision of SPEC §5 (``RouteDecision.as_dict()``); with ``explain`` it also
    carries ``candidates``, ``candidates_omitted``, ``skipped_targets`` and ``steps``."""

    outcome = serializers.ChoiceField(choices=[engine.ROUTED, engine.REJECTED])
    reason = serializers.ChoiceField(choices=REASONS)
    sip_code = serializers.IntegerField(allow_null=True)
    sip_reason = serializers.CharField(allow_blank=True)
    called_number = serializers.CharField(allow_blank=True)
    number = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField(allow_null=True)
    customer = _Named(allow_null=True)
    trunk = _TrunkRef(allow_null=True)
    dialpeer = _Named(allow_null=True)
    rule = _RuleRef(allow_null=True)
    targets = _Target(many=True)
    rate = _Rate(allow_null=True)
    unbilled = serializers.BooleanField()
    candidates = serializers.ListField(child=serializers.DictField(), required=False)
    candidates_omitted = serializers.IntegerField(required=False)
    skipped_targets = serializers.ListField(child=serializers.DictField(), required=False)
    steps = serializers.ListField(child=serializers.DictField(), required=False)


class _RtjsonRoute(serializers.Serializer):
    uri = serializers.CharField()


class _RtjsonRule(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_blank=True)
    label = serializers.CharField(allow_blank=True)
    name = serializers.CharField()


class _RtjsonTrunk(serializers.Serializer):
    """The ingress trunk: the SIP edge counts its calls per second against Trunk.max_cps."""

    id = serializers.IntegerField()


class RtjsonSerializer(serializers.Serializer):  # component "Rtjson"
    """The routing document Kamailio's ``rtjson`` module reads, plus the decision's answer.

    One route per target, in order; ``sip_code`` is null for ``unknown_source`` (the edge
    must not reply)."""

    version = serializers.ChoiceField(choices=["1.0"])
    routing = serializers.ChoiceField(choices=["serial"])
    routes = _RtjsonRoute(many=True)
    outcome = serializers.ChoiceField(choices=[engine.ROUTED, engine.REJECTED])
    reason = serializers.ChoiceField(choices=REASONS)
    sip_code = serializers.IntegerField(allow_null=True)
    sip_reason = serializers.CharField(allow_blank=True)
    dialpeer = _Named(allow_null=True)
    rule = _RtjsonRule(allow_null=True)
    trunk = _RtjsonTrunk(allow_null=True)


def contact_uri(sip_uri, number):
    """``sip:10.8.0.12:5060`` + ``37412345`` → ``sip:37412345@10.8.0.12:5060`` (a user part
    already in the URI is replaced; URI parameters are kept). None without a usable URI."""
    scheme, sep, rest = (sip_uri or "").partition(":")
    if not sep or scheme.lower() not in ("sip", "sips") or not rest:
        return None
    hostport = rest.rsplit("@", 1)[-1]
    if not hostport:
        return None
    return f"{scheme.lower()}:{number}@{hostport}"


def rtjson_document(decision):
    routes = []
    for target in decision.targets:
        uri = contact_uri(target.client.sip_uri, decision.number)
        if uri:
            routes.append({"uri": uri})
    rule = decision.rule
    return {
        "version": "1.0",
        "routing": "serial",
        "routes": routes,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "sip_code": decision.sip_code,
        "sip_reason": decision.sip_reason,
        "dialpeer": (
            {"id": decision.dialpeer.id, "name": decision.dialpeer.name}
            if decision.dialpeer
            else None
        ),
        "rule": (
            {"id": rule.id, "code": rule.code, "label": rule.label, "name": rule.display}
            if rule
            else None
        ),
        "trunk": {"id": decision.trunk.id} if decision.trunk else None,
    }


class RtjsonRenderer(JSONRenderer):
    """``?format=rtjson``: JSON, in the routing document shape (see RouteView)."""

    format = "rtjson"


def quick_lookup(data):
    """The validated lookup for the plain common case (the SIP edge's: a string number and a
    trunk id or a source IP, no time), or None to let RouteLookupSerializer decide.

    A strict subset of what the serializer accepts, so it never accepts what the serializer
    would refuse; it only spares the hot path the serializer's per-request field copies.
    """
    if not isinstance(data, dict) or "at" in data:
        return None
    number = data.get("called_number")
    explain = data.get("explain", False)
    if not isinstance(number, str) or len(number) > 64 or "\x00" in number:
        return None
    if not isinstance(explain, bool):
        return None
    has_trunk, has_ip = "trunk" in data, "source_ip" in data
    if has_trunk == has_ip:
        return None
    if has_trunk:
        trunk = data["trunk"]
        if type(trunk) is not int or not 1 <= trunk <= MAX_ID:
            return None
        return {"called_number": number, "trunk": trunk, "explain": explain}
    ip = data["source_ip"]
    if not isinstance(ip, str) or not ip or len(ip) > 64 or "\x00" in ip:
        return None
    try:
        engine.parse_source_ip(ip)
    except engine.IngressError:
        return None
    return {"called_number": number, "source_ip": ip, "explain": explain}


MAX_ID = 2**63 - 1


class RouteView(APIViewMixin, APIView):
    """Where does this call go? ``POST`` the called number and the ingress (``trunk`` id or
    ``source_ip``); the answer is the routing decision of SPEC §5 with HTTP 200 whatever
    its outcome. ``?format=rtjson`` answers in Kamailio's rtjson shape instead. Malformed
    requests (missing or non-string number, over 64 characters, NUL, both or neither of
    trunk/source_ip, bad IP or time, a trunk that is not this tenant's) are 400.

    A route lookup only reads, so a viewer's token may ask too."""

    renderer_classes = [JSONRenderer, RtjsonRenderer]

    def get_permissions(self):
        return [ReadPermission()]

    @extend_schema(
        request=RouteLookupSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="RouteAnswer",
                serializers=[RouteDecisionSerializer, RtjsonSerializer],
                resource_type_field_name=None,
            )
        },
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "rtjson"],
                required=False,
                description="`rtjson`: answer in Kamailio's rtjson routing document shape "
                "(the Rtjson component of the answer).",
            )
        ],
        examples=[
            OpenApiExample(
                "By source IP",
                value={"called_number": "9937412345678", "source_ip": "203.0.113.10"},
                request_only=True,
            ),
            OpenApiExample(
                "By trunk, explained",
                value={"called_number": "9937412345678", "trunk": 1, "explain": True},
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        data = quick_lookup(request.data)
        if data is None:  # not the plain common case: full validation, with field errors
            params = RouteLookupSerializer(data=request.data)
            params.is_valid(raise_exception=True)
            data = params.validated_data
        try:
            decision = engine.route_call(
                self.tenant,
                called_number=data["called_number"],
                trunk=data.get("trunk"),
                source_ip=data.get("source_ip"),
                at=data.get("at"),
                explain=data["explain"],
            )
        except engine.IngressError as exc:
            field = "trunk" if "trunk" in data else "source_ip"
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        if request.accepted_renderer.format == "rtjson":
            return Response(rtjson_document(decision))
        return Response(decision.as_dict())


class ReadPermission(TenantPermission):
    """A tenant login of any role (the route lookup changes nothing but the rotation)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return getattr(request, "membership", None) is not None
