"""The GSM side: networks of VMGateClients with SIM slots, and the routing rules over them."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from routing.dialplan import CATCH_ALL, label_for_code
from routing.policy_models import (  # noqa: E402, F401 - SPEC §9's models live in routing.models
    NumberList,
    NumberListEntry,
    Schedule,
    ScheduleWindow,
    TranslationRule,
    TranslationSet,
    number_digits,
)
from routing.sip_uri import validate_sip_uri
from vmgate.links import url_or_blank
from vmgate.models import TenantOwned
from vmgate.tenancy import check_same_tenant
from vmgate.validators import digits_code, no_nul

#: A calling number: what a called number may be after its tech prefix (SPEC §9).
calling_number_syntax = RegexValidator(
    r"^\+?[0-9]{1,24}\Z",
    "Use an optional + and 1–24 digits 0-9.",
    code="invalid_calling_number",
)


def code_display(code, label):
    """How an operator reads a rule: ``374 — Armenia`` or ``* (any)``."""
    if not code:
        return CATCH_ALL
    return f"{code} — {label}" if label else code


def rule_display(code, label, trunk=None):
    """How an operator reads a rule everywhere (lists, filters, change log): its code and
    label, and the trunk it is scoped to (a Trunk or its name), if any."""
    text = code_display(code, label)
    return f"{text} (trunk {trunk})" if trunk else text


class Network(TenantOwned):
    """A group of VMGateClients (e.g. one site or one mobile operator's SIMs)."""

    name = models.CharField(max_length=200, validators=[no_nul])
    egress_translation = models.ForeignKey(
        TranslationSet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="egress_networks",
        help_text="Rewrites the number this network's clients dial. Empty: as routed.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="network_name_unique_per_tenant",
                violation_error_message="A network with this name already exists.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("routing:network_detail", self.pk)

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id,
            egress_translation=self.egress_translation if self.egress_translation_id else None,
        )
        if errors:
            raise ValidationError(errors)


class VMGateClient(TenantOwned):
    """A gateway phone with SIM slots that terminates calls on GSM.

    ``status`` and ``active_calls`` are the live state reported by the GSM side; the engine
    reads them fresh for every decision.
    """

    READY, NO_DONGLE, OFF = "ready", "no_dongle", "off"
    STATUS_CHOICES = [(READY, "Ready"), (NO_DONGLE, "No dongle"), (OFF, "Off")]

    name = models.CharField(max_length=200, validators=[no_nul], verbose_name="device name")
    node_id = models.CharField(max_length=64, validators=[no_nul], verbose_name="node id")
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="clients")
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=READY)
    active_calls = models.PositiveIntegerField(default=0)
    sip_uri = models.CharField(
        max_length=255,
        blank=True,
        validators=[no_nul, validate_sip_uri],
        verbose_name="SIP URI",
        help_text="Where the SIP edge reaches it, e.g. sip:10.8.0.12:5060",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "VMGateClient"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "node_id"],
                name="client_node_id_unique_per_tenant",
                violation_error_message="A VMGateClient with this node id already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(active_calls__gte=0), name="client_active_calls_gte_0"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("routing:vmgateclient_detail", self.pk)

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id, network=self.network if self.network_id else None
        )
        if errors:
            raise ValidationError(errors)


class SimSlot(models.Model):
    """One SIM slot (1–8) of a VMGateClient."""

    tenant_path = "client__tenant"

    client = models.ForeignKey(VMGateClient, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    enabled = models.BooleanField(default=True)
    label = models.CharField(max_length=100, blank=True, validators=[no_nul])

    history = HistoricalRecords()

    class Meta:
        ordering = ["client", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "position"],
                name="simslot_position_unique_per_client",
                violation_error_message="This client already has a slot at this position.",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1, position__lte=8), name="simslot_position_1_8"
            ),
        ]

    def __str__(self):
        return f"{self.client.name} · slot {self.position}"


class RoutingRule(TenantOwned):
    """Where the outbound GSM leg of calls to ``code``… goes, and how its targets compete.

    The empty code is the catch-all. A rule may be scoped to one trunk; calls only reach a
    rule through an active dialpeer.
    """

    WEIGHT, PRIORITY = "weight", "priority"
    ASSIGNMENT_CHOICES = [(WEIGHT, "Weight"), (PRIORITY, "Priority")]

    code = models.CharField(max_length=15, blank=True, validators=[digits_code])
    label = models.CharField(max_length=200, blank=True, validators=[no_nul])
    assignment = models.CharField(
        max_length=10,
        choices=ASSIGNMENT_CHOICES,
        default=WEIGHT,
        verbose_name="how targets compete",
    )
    trunk = models.ForeignKey(
        "customers.Trunk",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scoped_rules",
        verbose_name="SIP trunk filter",
        help_text="Empty: all trunks.",
    )
    is_active = models.BooleanField(default=True, verbose_name="active")
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Outside its schedule the rule is not a candidate. Empty: always.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "id"]
        indexes = [
            models.Index(fields=["tenant", "code"], name="rule_tenant_code"),
            # Covers the rules list's order (code, id): a late page skips index entries.
            models.Index(fields=["tenant", "code", "id"], name="rule_tenant_code_id"),
        ]

    def __str__(self):
        """``374 — Armenia``; a rule scoped to one trunk says which, so two rules for the
        same code never read alike: ``374 — Armenia (trunk Carrier / in-1)``."""
        return rule_display(self.code, self.label, self.trunk if self.trunk_id else None)

    def get_absolute_url(self):
        return url_or_blank("routing:routingrule_detail", self.pk)

    def save(self, *args, **kwargs):
        if not self.label:
            self.label = label_for_code(self.code)
        super().save(*args, **kwargs)

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id,
            trunk=self.trunk if self.trunk_id else None,
            schedule=self.schedule if self.schedule_id else None,
        )
        if errors:
            raise ValidationError(errors)
        if not self.pk or "\x00" in (self.code or ""):
            return
        links = self.dialpeers.select_related("trunk")
        if self.trunk_id:
            elsewhere = [d for d in links if d.trunk_id != self.trunk_id]
            if elsewhere:
                names = ", ".join(f"“{d.name}” (trunk {d.trunk.name})" for d in elsewhere[:5])
                raise ValidationError(
                    {"trunk": f"Dialpeers link this rule on other trunks: {names}."}
                )
        clashes = []
        for d in links:
            if not d.is_active:
                continue
            other = self.dialpeers.model.same_code_on_trunk(
                d.trunk_id, self.code, exclude_rule=self.pk
            )
            if other is not None:
                clashes.append((d, other))
        if clashes:
            text = "; ".join(
                f"trunk {d.trunk.name} already routes code {self.code or CATCH_ALL} through "
                f"dialpeer “{o.name}”"
                for d, o in clashes[:5]
            )
            raise ValidationError({"code": f"This would route one code twice: {text}."})


class RoutingTarget(models.Model):
    """One target of a rule: exactly one of a network, a VMGateClient or a SIM slot."""

    tenant_path = "rule__tenant"

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="targets")
    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, null=True, blank=True, related_name="targets"
    )
    client = models.ForeignKey(
        VMGateClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name="VMGateClient",
    )
    sim_slot = models.ForeignKey(
        SimSlot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name="SIM slot",
    )
    priority = models.PositiveIntegerField(default=0, help_text="0 is tried first.")
    weight = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(default=True, verbose_name="active")
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
        help_text="Outside its schedule the target is skipped. Empty: always.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["rule", "priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(network__isnull=False, client__isnull=True, sim_slot__isnull=True)
                    | models.Q(network__isnull=True, client__isnull=False, sim_slot__isnull=True)
                    | models.Q(network__isnull=True, client__isnull=True, sim_slot__isnull=False)
                ),
                name="target_exactly_one_kind",
                violation_error_message="Choose exactly one of network, VMGateClient or SIM slot.",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=100), name="target_weight_1_100"
            ),
        ]

    def __str__(self):
        return f"{self.kind_label}: {self.target}"

    @property
    def target(self):
        return self.network or self.client or self.sim_slot

    @property
    def kind(self):
        if self.network_id:
            return "network"
        if self.client_id:
            return "client"
        if self.sim_slot_id:
            return "sim_slot"
        return None

    @property
    def kind_label(self):
        return {"network": "Network", "client": "VMGateClient", "sim_slot": "SIM slot"}.get(
            self.kind, "?"
        )

    def clean(self):
        set_kinds = [f for f in ("network", "client", "sim_slot") if getattr(self, f + "_id")]
        if len(set_kinds) != 1:
            raise ValidationError("Choose exactly one of network, VMGateClient or SIM slot.")
        tenant_id = self.rule.tenant_id if self.rule_id else None
        related = {f: getattr(self, f) for f in set_kinds}
        if self.schedule_id:
            related["schedule"] = self.schedule
        errors = check_same_tenant(tenant_id, **related)
        if errors:
            raise ValidationError(errors)


class RoutingCheck(TenantOwned):
    """A saved test call (ingress + number → expected outcome and rule), re-run on demand."""

    name = models.CharField(max_length=200, validators=[no_nul])
    trunk = models.ForeignKey(
        "customers.Trunk",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_checks",
    )
    source_ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="source IP")
    called_number = models.CharField(max_length=64, validators=[no_nul])
    calling_number = models.CharField(
        max_length=25,
        blank=True,
        validators=[calling_number_syntax],
        help_text="Optional: the caller's number (From), checked by calling-number lists.",
    )
    at = models.DateTimeField(null=True, blank=True, verbose_name="call time (UTC)")
    expected_outcome = models.CharField(
        max_length=10, choices=[("routed", "Routed"), ("rejected", "Rejected")]
    )
    expected_reason = models.CharField(max_length=32, blank=True)
    expected_rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_passed = models.BooleanField(null=True, blank=True)
    last_result = models.JSONField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    #: What an operator writes (the form's and the API's writable fields), and what a run
    #: writes (read-only in the API).
    EDITABLE_FIELDS = (
        "name",
        "trunk",
        "source_ip",
        "called_number",
        "calling_number",
        "at",
        "expected_outcome",
        "expected_reason",
        "expected_rule",
    )
    RESULT_FIELDS = ("last_passed", "last_result", "last_run_at")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(trunk__isnull=False, source_ip__isnull=True)
                    | models.Q(trunk__isnull=True, source_ip__isnull=False)
                ),
                name="check_exactly_one_ingress",
                violation_error_message="Give either a trunk or a source IP.",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = check_same_tenant(
            self.tenant_id,
            trunk=self.trunk if self.trunk_id else None,
            expected_rule=self.expected_rule if self.expected_rule_id else None,
        )
        if bool(self.trunk_id) == bool(self.source_ip):
            errors["__all__"] = "Give either a trunk or a source IP."
        if errors:
            raise ValidationError(errors)
