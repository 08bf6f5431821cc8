"""Routing policy (SPEC §9): translation sets and their rules, number lists and their
entries, schedules and their windows. Re-exported by ``routing.models`` (the SPEC's home
for them); split off only to keep each module readable. The rules themselves (what a
pattern may be, how a set is applied, when a window is open) live in ``routing.policy``."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from routing import policy
from vmgate.links import url_or_blank
from vmgate.models import TenantOwned
from vmgate.validators import no_nul

number_digits = RegexValidator(r"^[0-9]{1,24}\Z", "Use 1–24 digits 0-9.", code="invalid_number")


def _checked(check, value):
    # not code "invalid": a JSONField shows its own "Value must be valid JSON." for that
    try:
        check(value)
    except policy.PolicyError as exc:
        raise ValidationError(str(exc), code="invalid_policy") from None


def validate_match(value):
    """A translation rule's ``match`` (routing.policy.compile_match)."""
    _checked(policy.compile_match, value)


def validate_timezone(value):
    _checked(policy.zone, value)


def validate_weekdays(value):
    _checked(policy.check_weekdays, value)


def _unique_name(model, label):
    return models.UniqueConstraint(
        fields=["tenant", "name"],
        name=f"{model}_name_unique_per_tenant",
        violation_error_message=f"A {label} with this name already exists.",
    )


class TranslationSet(TenantOwned):
    """An ordered list of number rewrites: a trunk's ingress translation (the number after
    its tech prefix) or a network's egress translation (the number its clients dial)."""

    name = models.CharField(max_length=200, validators=[no_nul])

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [_unique_name("translationset", "translation set")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("routing:translationset_detail", self.pk)

    def compiled_rules(self):
        """The set's rules, compiled, in position order (the test box applies these)."""
        return [
            policy.compile_rule(r.id, r.position, r.match, r.replace, r.stop)
            for r in self.rules.order_by("position", "id")
        ]


class TranslationRule(models.Model):
    """One rewrite of a set: when ``match`` matches the whole number, it becomes
    ``replace``; ``stop`` ends the set there, else the next rules see the new number."""

    tenant_path = "translation_set__tenant"

    translation_set = models.ForeignKey(
        TranslationSet, on_delete=models.CASCADE, related_name="rules"
    )
    position = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Rules are tried in this order."
    )
    match = models.CharField(
        max_length=policy.MATCH_MAX_LENGTH,
        validators=[no_nul, validate_match],
        help_text="A regular expression matched against the whole number, e.g. 0([0-9]+).",
    )
    replace = models.CharField(
        max_length=policy.REPLACE_MAX_LENGTH,
        blank=True,
        validators=[no_nul],
        verbose_name="replacement",
        help_text="Digits and groups, e.g. 374\\1.",
    )
    stop = models.BooleanField(default=True, help_text="End the set when this rule fires.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["translation_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation_set", "position"],
                name="translationrule_position_unique_per_set",
                violation_error_message="This set already has a rule at this position.",
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="translationrule_position_gte_1"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.match} → {self.replace}"

    def clean(self):
        try:
            compiled = policy.compile_match(self.match)
        except policy.PolicyError:
            return  # the field's own validator reports it
        try:
            policy.compile_replace(self.replace or "", compiled)
        except policy.PolicyError as exc:
            raise ValidationError({"replace": str(exc)}) from None


class NumberList(TenantOwned):
    """Numbers a trunk's calls must not reach (``deny``) or may only reach (``allow``),
    checked against the called or the calling number (SPEC §9 step 5b)."""

    DENY, ALLOW = "deny", "allow"
    KIND_CHOICES = [(DENY, "Deny"), (ALLOW, "Allow")]
    CALLED, CALLING = "called", "calling"
    APPLIES_CHOICES = [(CALLED, "Called number"), (CALLING, "Calling number")]

    name = models.CharField(max_length=200, validators=[no_nul])
    kind = models.CharField(max_length=5, choices=KIND_CHOICES, default=DENY)
    applies_to = models.CharField(max_length=7, choices=APPLIES_CHOICES, default=CALLED)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [_unique_name("numberlist", "number list")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("routing:numberlist_detail", self.pk)


class NumberListEntry(models.Model):
    """One value of a number list: a prefix of numbers or one exact number."""

    PREFIX, EXACT = "prefix", "exact"
    MATCH_CHOICES = [(PREFIX, "Prefix"), (EXACT, "Exact")]

    tenant_path = "number_list__tenant"

    number_list = models.ForeignKey(NumberList, on_delete=models.CASCADE, related_name="entries")
    value = models.CharField(max_length=24, validators=[number_digits])
    match = models.CharField(max_length=6, choices=MATCH_CHOICES, default=PREFIX)
    note = models.CharField(max_length=200, blank=True, validators=[no_nul])

    history = HistoricalRecords()

    class Meta:
        ordering = ["number_list", "value", "match", "id"]
        verbose_name_plural = "number list entries"
        constraints = [
            models.UniqueConstraint(
                fields=["number_list", "value", "match"],
                name="numberlistentry_unique_per_list",
                violation_error_message="This list already has this entry.",
            )
        ]

    def __str__(self):
        return f"{self.value}{'…' if self.match == self.PREFIX else ''}"


class Schedule(TenantOwned):
    """When a rule or a target carries traffic: weekly windows of local time in one zone."""

    name = models.CharField(max_length=200, validators=[no_nul])
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[no_nul, validate_timezone],
        verbose_name="time zone",
        help_text="An IANA name, e.g. Asia/Yerevan.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [_unique_name("schedule", "schedule")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank("routing:schedule_detail", self.pk)

    def compiled(self):
        return policy.compile_schedule(
            self.pk,
            self.name,
            self.timezone,
            [(w.weekdays, w.start, w.end) for w in self.windows.all()],
        )


class ScheduleWindow(models.Model):
    """Open on ``weekdays`` from ``start`` to ``end`` (local time). ``end`` ≤ ``start``
    runs past midnight and counts for the weekday it started on."""

    tenant_path = "schedule__tenant"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="windows")
    weekdays = models.JSONField(
        validators=[validate_weekdays],
        help_text="Monday = 1 … Sunday = 7.",
        error_messages={"blank": "Choose at least one weekday."},
    )
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: runs past midnight.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["schedule", "start", "id"]

    def __str__(self):
        days = ", ".join(
            policy.WEEKDAY_NAMES[d - 1]
            for d in (self.weekdays or [])
            if isinstance(d, int) and 1 <= d <= 7
        )
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if isinstance(self.weekdays, list):
            try:
                self.weekdays = policy.check_weekdays(self.weekdays)
            except policy.PolicyError:
                pass  # the field's own validator reports it
