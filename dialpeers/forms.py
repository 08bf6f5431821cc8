"""The dialpeer form: customer → trunk dependent dropdown, searchable rule select.

All three selects are :class:`vmgate.widgets.SearchSelect`: they render only the selected
option, so the page stays the same size with 100,000 rules. The trunk select lists only the
chosen customer's trunks (``customers.forms.dependent_trunk_select``): ``__init__`` narrows
its queryset from the bound data (or the instance), so a forged POST with another
customer's trunk fails validation and a failed POST re-renders with the chosen values.
"""

from django import forms
from django.utils.html import format_html

from customers.forms import dependent_trunk_select
from customers.models import Customer, Trunk
from customers.options import trunk_label
from dialpeers.models import Dialpeer
from routing.models import RoutingRule
from routing.options import rule_label
from vmgate.forms import TenantModelForm
from vmgate.tenancy import parse_pk
from vmgate.widgets import SearchSelect


class NarrowedModelChoiceField(forms.ModelChoiceField):
    """A choice field whose offered rows are narrowed (e.g. to one customer's trunks).

    A row of the tenant outside the narrowed set gets ``outside_message`` in plain words,
    naming it; an id that is not the tenant's at all stays "Select a valid choice".
    """

    def __init__(self, *args, outside_message=None, **kwargs):
        self.wider_queryset = None
        self.outside_message = outside_message
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            if self.wider_queryset is None or self.outside_message is None:
                raise
            try:
                row = self.wider_queryset.get(pk=value)
            except (ValueError, TypeError, self.queryset.model.DoesNotExist):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                ) from None
            raise forms.ValidationError(self.outside_message(row), code="outside") from None


class DialpeerForm(TenantModelForm):
    """Display name, Origin customer (retail), SIP trunk (ingress), Routing rule (+ active)."""

    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        label="Origin customer (retail)",
        widget=SearchSelect(
            "customers:customer_options",
            params={"with_trunks": "1"},
            placeholder="Search customers…",
        ),
    )
    trunk = NarrowedModelChoiceField(
        queryset=Trunk.objects.all(),
        label="SIP trunk (ingress)",
        widget=dependent_trunk_select(),
        outside_message=lambda trunk: (
            f"Trunk “{trunk.name}” belongs to customer “{trunk.customer.name}”, not to the "
            "origin customer chosen. Pick one of that customer's trunks."
        ),
    )
    rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        label="Routing rule",
        widget=SearchSelect(
            "routing:rule_options",
            include=["trunk"],
            reload_on=["trunk"],
            placeholder="Search by prefix (374) or label (Armenia)…",
        ),
        help_text="Rules for all trunks, plus rules scoped to the chosen trunk.",
    )

    class Meta:
        model = Dialpeer
        fields = ["name", "customer", "trunk", "rule", "is_active"]
        labels = {"name": "Display name", "is_active": "Active"}
        help_texts = {"is_active": "Only active dialpeers take part in routing."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # "Create" makes an active dialpeer; Edit changes the flag.
            del self.fields["is_active"]
        tenant_trunks = self.fields["trunk"].queryset
        customer_pk = self._chosen("customer")
        self.fields["trunk"].wider_queryset = tenant_trunks.select_related("customer")
        self.fields["trunk"].queryset = (
            tenant_trunks.filter(customer_id=customer_pk).order_by("name", "id")
            if customer_pk is not None
            else tenant_trunks.none()
        )
        self.fields["trunk"].label_from_instance = trunk_label
        self.fields[
            "trunk"
        ].help_text = "Lists the origin customer's trunks once the customer is picked."
        self.fields["rule"].queryset = self.fields["rule"].queryset.select_related(
            "trunk__customer"
        )
        self.fields["rule"].label_from_instance = rule_label  # as the options endpoint says

    def _chosen(self, name):
        """The pk chosen for ``name``: from the POST when bound, else from the instance."""
        if self.is_bound:
            return parse_pk(self.data.get(self.add_prefix(name)))
        initial = self.initial.get(name)
        if initial is not None:
            return parse_pk(getattr(initial, "pk", initial))
        return getattr(self.instance, f"{name}_id", None)

    # Plain-words refusals ---------------------------------------------------------------
    def _post_clean(self):
        super()._post_clean()
        self._link_duplicate_error()

    def _link_duplicate_error(self):
        errors = self._errors.get(forms.forms.NON_FIELD_ERRORS) if self._errors else None
        if not errors:
            return
        for index, error in enumerate(errors.data):
            params = getattr(error, "params", None) or {}
            dialpeer = params.get("dialpeer")
            if getattr(error, "code", None) != "duplicate" or dialpeer is None:
                continue
            errors.data[index] = forms.ValidationError(
                duplicate_message(dialpeer), code="duplicate"
            )


def duplicate_message(dialpeer):
    """The duplicate refusal, naming the existing dialpeer with a link to it."""
    return format_html(
        'Dialpeer <a href="{}">“{}”</a> already links this origin customer, routing rule '
        "and trunk. Edit that one, or pick another rule.",
        dialpeer.get_absolute_url(),
        dialpeer.name,
    )
