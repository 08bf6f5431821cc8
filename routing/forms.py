"""Operator forms for the target inventory (networks, clients with SIM slots), routing rules
and their targets. Every choice is tenant-scoped by TenantModelForm; the big choices (trunks,
networks, clients, SIM slots) render only the selected option and are searched on demand."""

import json

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html, format_html_join

from customers.forms import keep_unsent
from routing import policy
from routing.dialplan import CATCH_ALL
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
from vmgate.forms import HighlightErrorsMixin, TenantModelForm
from vmgate.widgets import SearchSelect


def policy_select(kind, placeholder, cls=SearchSelect):
    """The searchable select of a translation set, number list or schedule
    (routing/options.py ``policy_options``)."""
    return cls("routing:policy_options", params={"kind": kind}, placeholder=placeholder)


#: What an empty schedule choice means (SPEC §9: no schedule = always).
ALWAYS = "Always"

ASSIGNMENT_HELP = {
    RoutingRule.WEIGHT: (
        "Least-loaded VMGateClient first (fewest active calls); ties go to the higher weight."
    ),
    RoutingRule.PRIORITY: (
        "Lower priority number first (0 = highest); targets at the same level take turns "
        "(round-robin)."
    ),
}

KIND_CHOICES = [
    ("network", "Network"),
    ("client", "VMGateClient"),
    ("sim_slot", "SIM slot"),
]
KIND_FIELDS = [k for k, _ in KIND_CHOICES]


class KnownSearchSelect(SearchSelect):
    """A SearchSelect that renders an already-loaded selected row without a query.

    The targets page renders one row form per target; their selected network / client /
    slot come from one select_related query, so the page's query count does not grow with
    its rows.
    """

    known = None

    def __deepcopy__(self, memo):
        obj = super().__deepcopy__(memo)
        obj.known = None
        return obj

    def _selected_choices(self, value):
        known = self.known or {}
        values = [str(v) for v in value if v not in (None, "")]
        field = getattr(self.choices, "field", None)
        if field is None or not values or not all(v in known for v in values):
            return super()._selected_choices(value)
        choices = [("", field.empty_label)] if field.empty_label is not None else []
        return choices + [(known[v].pk, field.label_from_instance(known[v])) for v in values]


class NetworkForm(TenantModelForm):
    class Meta:
        model = Network
        fields = ["name", "egress_translation"]
        widgets = {
            "egress_translation": policy_select("translation_set", "Search translation sets…")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["egress_translation"].empty_label = "None: the number as routed"
        keep_unsent(self, "egress_translation")
        self.helper = FormHelper()
        self.helper.form_tag = False


class VMGateClientForm(TenantModelForm):
    class Meta:
        model = VMGateClient
        fields = ["name", "node_id", "network", "status", "active_calls", "sip_uri"]
        widgets = {"network": SearchSelect("routing:target_options", params={"kind": "network"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class SimSlotForm(HighlightErrorsMixin, forms.ModelForm):
    class Meta:
        model = SimSlot
        fields = ["position", "enabled", "label"]
        widgets = {
            "position": forms.NumberInput(
                attrs={"min": 1, "max": 8, "class": "form-control form-control-sm"}
            ),
            "enabled": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "label": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        }

    def has_changed(self):
        # A new client's form starts with slots 1 and 2 filled in: a row that shows a
        # position is saved (tick Remove to drop it), a blank added row is ignored.
        if self.is_bound and self.instance.pk is None:
            if (self.data.get(self.add_prefix("position")) or "").strip():
                return True
        return super().has_changed()


class BaseSimSlotFormSet(BaseInlineFormSet):
    """SIM slot rows: a position given twice is said in plain words, on the repeated row."""

    def get_unique_error_message(self, unique_check):
        return "Each position may appear once."

    def get_form_error(self):
        return "This position is already listed above."


SimSlotFormSet = inlineformset_factory(
    VMGateClient,
    SimSlot,
    form=SimSlotForm,
    formset=BaseSimSlotFormSet,
    extra=0,
    max_num=8,
    validate_max=True,
    can_delete=True,
)


class RoutingRuleForm(TenantModelForm):
    """Add/edit a rule. The code/scope clash refusals come from ``RoutingRule.clean()``."""

    class Meta:
        model = RoutingRule
        fields = ["assignment", "code", "label", "trunk", "schedule", "is_active"]
        widgets = {
            "schedule": policy_select("schedule", "Search schedules…"),
            "assignment": forms.RadioSelect,
            "trunk": SearchSelect(
                "customers:trunk_options",
                params={"empty": "all"},
                placeholder="Search trunk or customer…",
            ),
        }
        help_texts = {
            "code": "Digits matched against the called number (tech prefix stripped). "
            f"Leave empty for the catch-all, shown {CATCH_ALL}.",
            "label": "Filled from the dialplan when you leave the code field; you can "
            "overwrite it.",
            "trunk": "All trunks, or only calls arriving on one trunk.",
            "schedule": "Outside its schedule the rule is not a candidate. Empty: always.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = [
            (value, f"{label} — {ASSIGNMENT_HELP[value]}")
            for value, label in RoutingRule.ASSIGNMENT_CHOICES
        ]
        self.fields["trunk"].empty_label = "All trunks"
        self.fields["schedule"].empty_label = ALWAYS
        keep_unsent(self, "schedule")
        self.fields["trunk"].queryset = self.fields["trunk"].queryset.select_related("customer")
        self.fields["code"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("routing:rule_label"),
                "hx-trigger": "blur",
                "hx-target": "#label-field",
                "hx-swap": "outerHTML",
                "hx-include": "[name=code],[name=label],[name=label_auto]",
                "inputmode": "numeric",
                "autocomplete": "off",
            }
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "assignment",
            Field("code", css_class="font-monospace"),
            "label",
            "trunk",
            *(["schedule"] if "schedule" in self.fields else []),
            "is_active",
        )


class RoutingTargetForm(HighlightErrorsMixin, TenantModelForm):
    """One target row: a type, then the one network / client / SIM slot of that type.

    The three target fields are the model's own; only the one matching ``kind`` is shown.
    A forged row with two of them set, or none, is refused like the model refuses it.
    """

    kind = forms.ChoiceField(choices=[("", "— type —"), *KIND_CHOICES], label="Type")

    class Meta:
        model = RoutingTarget
        fields = ["network", "client", "sim_slot", "priority", "weight", "schedule", "is_active"]
        widgets = {
            "schedule": policy_select("schedule", "Always", cls=KnownSearchSelect),
            "network": KnownSearchSelect("routing:target_options", params={"kind": "network"}),
            "client": KnownSearchSelect("routing:target_options", params={"kind": "client"}),
            "sim_slot": KnownSearchSelect("routing:target_options", params={"kind": "sim_slot"}),
            "priority": forms.NumberInput(attrs={"min": 0, "class": "form-control"}),
            "weight": forms.NumberInput(attrs={"min": 1, "max": 100, "class": "form-control"}),
            "is_active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.instance.rule = rule
        self.fields["sim_slot"].queryset = self.fields["sim_slot"].queryset.select_related("client")
        if not self.is_bound and self.instance.pk:
            self.initial["kind"] = self.instance.kind
        for name in KIND_FIELDS:
            field = self.fields[name]
            field.label = "Target"
            field.widget.attrs["class"] = "form-select form-select-sm"
            # The rows of the targets page were loaded with select_related: reuse them.
            related = getattr(self.instance, name) if getattr(self.instance, name + "_id") else None
            if related is not None:
                field.widget.known = {str(related.pk): related}
        self.fields["client"].label_from_instance = lambda c: f"{c.name} ({c.node_id})"
        keep_unsent(self, "schedule")
        schedule = self.fields.get("schedule")
        if schedule is not None:
            schedule.empty_label = ALWAYS
            schedule.widget.attrs["class"] = "form-select form-select-sm"
            schedule.widget.attrs["aria-label"] = "Schedule"
            if self.instance.schedule_id:
                schedule.widget.known = {str(self.instance.schedule_id): self.instance.schedule}
        self.fields["kind"].widget.attrs.update(
            {
                "class": "form-select form-select-sm",
                "aria-label": "Type",
                "hx-get": reverse("routing:target_field"),
                "hx-target": f"#{self.prefix}-target",
                "hx-vals": json.dumps({"prefix": self.prefix}),
                "hx-trigger": "change",
            }
        )

    @property
    def current_kind(self):
        """The type the row shows: the posted one, else the saved one."""
        if self.is_bound:
            value = self.data.get(self.add_prefix("kind"), "")
        else:
            value = self.initial.get("kind") or ""
        return value if value in KIND_FIELDS else ""

    def clean(self):
        # "Exactly one of network / client / SIM slot" is the model's own clean(); here only
        # the type must agree with the target that was chosen.
        cleaned = super().clean()
        chosen = [f for f in KIND_FIELDS if cleaned.get(f)]
        kind = cleaned.get("kind")
        if kind and not chosen and kind not in self.errors:
            # Said under the target select itself, not only above the row.
            label = dict(KIND_CHOICES)[kind]
            self.add_error(kind, forms.ValidationError(f"Pick the {label}.", code="required"))
        if kind and len(chosen) == 1 and chosen[0] != kind:
            raise ValidationError(
                "The chosen target is not of the chosen type.", code="kind_mismatch"
            )
        return cleaned


# Routing policy (SPEC §9) ----------------------------------------------------------------


def _helper():
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class ChildFormMixin:
    """A row of one parent (a set's rule, a list's entry, a schedule's window): the view
    fixes the parent, and the unique constraints over it are validated like any field's
    (a ModelForm leaves out those naming a field it does not show)."""

    parent_field = ""

    def __init__(self, *args, parent, **kwargs):
        super().__init__(*args, **kwargs)
        setattr(self.instance, self.parent_field, parent)
        self.helper = _helper()

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard(self.parent_field)
        return exclude


class TranslationSetForm(TenantModelForm):
    class Meta:
        model = TranslationSet
        fields = ["name"]


class TranslationRuleForm(ChildFormMixin, TenantModelForm):
    """One rule of a set; ``match`` and ``replace`` are checked by routing.policy through the
    model (a pattern that could backtrack without bound, a group the match lacks)."""

    parent_field = "translation_set"

    class Meta:
        model = TranslationRule
        fields = ["position", "match", "replace", "stop"]
        widgets = {
            "position": forms.NumberInput(attrs={"min": 1}),
            "match": forms.TextInput(
                attrs={"class": "font-monospace", "autocomplete": "off", "spellcheck": "false"}
            ),
            "replace": forms.TextInput(
                attrs={"class": "font-monospace", "autocomplete": "off", "spellcheck": "false"}
            ),
        }
        help_texts = {
            "match": "A regular expression matched against the whole number (no + sign), "
            "e.g. <code>0([0-9]+)</code>. At most 200 characters; no backreferences.",
            "replace": "Digits and groups of the match, e.g. <code>374\\1</code>. Empty: the "
            "rule removes the number (refused as invalid).",
            "stop": "Ticked: the set ends when this rule fires. Unticked: the following rules "
            "see the new number.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and not self.is_bound and "position" not in self.initial:
            last = self.instance.translation_set.rules.order_by("-position").first()
            self.initial["position"] = (last.position + 1) if last else 1


class NumberListForm(TenantModelForm):
    class Meta:
        model = NumberList
        fields = ["name", "kind", "applies_to"]
        widgets = {"kind": forms.RadioSelect, "applies_to": forms.RadioSelect}
        help_texts = {
            "kind": "Deny: a call whose number matches an entry is refused (403). Allow: only "
            "numbers matching an entry pass.",
            "applies_to": "The called number (after the trunk's ingress translation) or the "
            "caller's number (From).",
        }


class NumberListEntryForm(ChildFormMixin, TenantModelForm):
    parent_field = "number_list"

    class Meta:
        model = NumberListEntry
        fields = ["value", "match", "note"]
        widgets = {
            "value": forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "off", "class": "font-monospace"}
            ),
            "match": forms.RadioSelect,
        }
        help_texts = {
            "value": "1–24 digits 0-9, no + sign.",
            "match": "Prefix: every number starting with the value. Exact: that number only.",
        }


class TimeZoneInput(forms.TextInput):
    """A text input offering the IANA zone names (a ``<datalist>``) as the operator types;
    any other text is refused by the model's validator."""

    list_id = "timezone-names"

    def __init__(self, attrs=None):
        super().__init__({"list": self.list_id, "autocomplete": "off", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "", '<option value="{}"></option>', ((z,) for z in sorted(policy.timezone_names()))
        )
        html = super().render(name, value, attrs, renderer)
        return html + format_html('<datalist id="{}">{}</datalist>', self.list_id, options)


class ScheduleForm(TenantModelForm):
    class Meta:
        model = Schedule
        fields = ["name", "timezone"]
        widgets = {"timezone": TimeZoneInput(attrs={"placeholder": "Europe/Berlin"})}
        help_texts = {
            "timezone": "An IANA name such as Asia/Yerevan: the windows are local times there, "
            "daylight saving included."
        }


WEEKDAY_CHOICES = [(i, name) for i, name in enumerate(policy.WEEKDAY_NAMES, start=1)]


class ScheduleWindowForm(ChildFormMixin, TenantModelForm):
    """Weekdays as seven boxes (Monday = 1), start and end as local times."""

    parent_field = "schedule"

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one weekday."},
        help_text="The days on which the window starts.",
    )

    class Meta:
        model = ScheduleWindow
        fields = ["weekdays", "start", "end"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "start": "Local time in the schedule's time zone.",
            "end": "At or before the start, the window runs past midnight into the next day "
            "(22:00–02:00 on Friday is open Friday night until Saturday 02:00).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk is None:
            self.initial.setdefault("weekdays", [1, 2, 3, 4, 5])


class TranslationTestForm(forms.Form):
    """The test box of a translation set: one number, as a called number is typed."""

    number = forms.RegexField(
        regex=r"^\+?[0-9]{1,24}\Z",
        max_length=40,
        strip=True,
        error_messages={
            "invalid": "Enter an optional + and 1–24 digits 0-9.",
            "required": "Enter a number to test.",
        },
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "class": "form-control font-monospace",
                "placeholder": "e.g. 091234567",
                "aria-label": "Number",
            }
        ),
    )

    def digits(self):
        """The number the rules see: the digits, without the + sign."""
        return self.cleaned_data["number"].removeprefix("+")
