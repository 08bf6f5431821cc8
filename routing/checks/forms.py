"""The routing check form."""

from django import forms

from customers.models import Trunk
from routing.dialplan import TYPED_SEPARATORS
from routing.engine import REASON_LABELS, SIP_ANSWERS
from routing.models import RoutingCheck, RoutingRule
from vmgate.forms import TenantModelForm
from vmgate.widgets import SearchSelect

OUTCOME_CHOICES = [("routed", "Routed"), ("rejected", "Rejected")]
REASON_CHOICES = [("", "Any reason")] + [
    (reason, f"{label} ({SIP_ANSWERS[reason][0] or 'no reply'})")
    for reason, label in REASON_LABELS.items()
]


class RoutingCheckForm(TenantModelForm):
    trunk = forms.ModelChoiceField(
        queryset=Trunk.objects.all(),
        required=False,
        label="SIP trunk (ingress)",
        widget=SearchSelect("customers:trunk_options", placeholder="Search trunks…"),
    )
    expected_reason = forms.ChoiceField(choices=REASON_CHOICES, required=False)
    expected_rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        required=False,
        label="Expected rule",
        widget=SearchSelect(
            "routing:rule_options",
            params={"all": "1"},
            placeholder="Search by prefix or label…",
        ),
        help_text="Empty: any rule.",
    )

    class Meta:
        model = RoutingCheck
        fields = list(RoutingCheck.EDITABLE_FIELDS)
        help_texts = {
            "source_ip": "Instead of a trunk: the address the INVITE comes from.",
            "called_number": "As it arrives, with the tech prefix.",
            "calling_number": "Optional: the caller's number (From), for calling-number lists.",
            "at": "Empty: the time of each run. Schedules and rates are judged at it.",
        }

    def clean_source_ip(self):
        # Empty is NULL, not "": the database constraint counts a non-NULL address.
        return self.cleaned_data["source_ip"] or None

    def clean_called_number(self):
        value = self.cleaned_data["called_number"]
        return TYPED_SEPARATORS.sub("", value)
