"""Forms of the customers app. Every one is a TenantModelForm (choices scoped to the tenant)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.forms.models import construct_instance
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from customers.models import (
    AMOUNT_ERRORS,
    CODEC_CHOICES,
    BalanceEntry,
    Customer,
    Rate,
    RatePlan,
    Trunk,
    TrunkNetwork,
    default_codecs,
    ingress_checked_on_completion,
    overlaps_by_network,
)
from customers.netutils import normalise_network
from customers.widgets import FastSelect
from vmgate.forms import TenantModelForm
from vmgate.widgets import SearchSelect

POSTPAID_FIELDS = ("credit_limit", "credit_unlimited", "overdraft_allowed", "overdraft_limit")


def _no_form_tag_helper(layout=None):
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout is not None:
        helper.layout = layout
    return helper


def keep_unsent(form, *names):
    """Leave out of ``form`` the fields among ``names`` that its data does not send at all,
    so saving keeps what the row has. The routing-policy fields came after the imports and
    the API: a trunk, network, rule or target written without them (an import whose columns
    predate them) must not lose its translation, lists or schedule. A page always sends
    them (a multiple select through its marker, see :class:`SearchSelectMultiple`)."""
    if not form.is_bound:
        return
    for name in names:
        field = form.fields.get(name)
        if field is not None and field.widget.value_omitted_from_data(
            form.data, form.files, form.add_prefix(name)
        ):
            del form.fields[name]


class SearchSelectMultiple(SearchSelect):
    """The portal's searchable select choosing several rows (Tom Select with remove
    buttons): only the chosen options are rendered, the others come from the endpoint.

    An empty hidden input of the same name goes with it, so a form that chose nothing
    still sends the field (a browser sends no value for a multiple select with none
    chosen): "none" and "not sent" (:func:`keep_unsent`) stay apart."""

    allow_multiple_selected = True

    def render(self, name, value, attrs=None, renderer=None):
        marker = format_html('<input type="hidden" name="{}" value="">', name)
        return marker + super().render(name, value, attrs, renderer)

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        values = getter(name) if getter else data.get(name)
        if values is None:
            return None
        if isinstance(values, str):
            values = [values]
        return [v for v in values if v != ""]

    def value_omitted_from_data(self, data, files, name):
        return name not in data


def dependent_trunk_select():
    """The trunk select that follows the form's ``customer`` field: it lists only the
    chosen customer's trunks (none before), drops a trunk of another customer when the
    customer changes, and picks the trunk when the customer has exactly one. The dialpeer
    form and the test call use it; their ``__init__`` narrows the field's queryset to the
    bound customer so a forged POST fails validation."""
    return SearchSelect(
        "customers:trunk_options",
        params={"by_customer": "1"},
        include=["customer"],
        reload_on=["customer"],
        pick_single=True,
        placeholder="Pick the customer, then its trunk…",
    )


class CustomerForm(TenantModelForm):
    """The postpaid fields are shown (static/js/customer_form.js) and validated only for
    postpaid customers; for prepaid ones the stored values are kept untouched. The balance
    is shown, not edited: it moves only through balance entries (Record payment)."""

    class Meta:
        model = Customer
        fields = ["name", "country", "email", "phone", "billing_type", *POSTPAID_FIELDS]
        # 250 countries are rendered and filtered in the browser by the same control.
        widgets = {
            "country": FastSelect(
                attrs={"data-search-select": "", "data-placeholder": "Type a country…"}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        country.widget.attrs["data-allow-empty"] = "0" if country.required else "1"
        balance = self.instance.balance if self.instance.pk else 0
        currency = self.tenant.currency
        self.helper = _no_form_tag_helper(
            Layout(
                "name",
                "country",
                "email",
                "phone",
                "billing_type",
                Fieldset(
                    "Postpaid terms",
                    "credit_limit",
                    "credit_unlimited",
                    "overdraft_allowed",
                    "overdraft_limit",
                    css_id="postpaid-fields",
                    css_class="border rounded p-3 mb-3",
                ),
                HTML(
                    '<p class="text-muted" data-testid="balance">Balance: '
                    f"<strong>{balance:.2f} {currency}</strong> "
                    "(it moves only through payments and adjustments: "
                    "Record payment on the customer's Balance tab)</p>"
                ),
            )
        )

    def _is_postpaid(self):
        return self.cleaned_data.get("billing_type") == Customer.POSTPAID

    def clean(self):
        cleaned = super().clean()
        if not self._is_postpaid():
            # Hidden fields of a prepaid customer: neither validated nor changed.
            for name in POSTPAID_FIELDS:
                self._errors.pop(name, None)
                cleaned[name] = getattr(self.instance, name)
        elif not cleaned.get("credit_unlimited") and cleaned.get("credit_limit") is None:
            self.add_error("credit_limit", "Enter a credit line, or tick unlimited.")
        if self._is_postpaid() and cleaned.get("overdraft_allowed"):
            if cleaned.get("overdraft_limit") in (None, 0):
                self.add_error("overdraft_limit", "Enter the overdraft limit.")
        return cleaned


class NetworkRowForm(forms.ModelForm):
    class Meta:
        model = TrunkNetwork
        fields = ["network"]
        widgets = {
            "network": forms.TextInput(attrs={"placeholder": "203.0.113.10 or 198.51.100.0/24"})
        }

    def clean_network(self):
        return normalise_network(self.cleaned_data.get("network"))

    def _post_clean(self):
        # The formset validates the rows as a set against the submitted tech prefix
        # (duplicates, overlaps); TrunkNetwork.clean would compare each row with the saved
        # rows and the saved prefix instead. The unique constraint stays the backstop.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


class BaseNetworkFormSet(BaseInlineFormSet):
    """Authorized IPs edited with the trunk. Each row gets its own error; duplicates among
    the rows and overlaps with other trunks of the same tech prefix are checked against the
    networks being submitted, not only the saved ones."""

    tech_prefix = None
    tenant = None

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Django's hidden row id accepts any TrunkNetwork; only this trunk's rows are valid.
        form.fields["id"].queryset = self.get_queryset()

    def clean(self):
        # Not super().clean(): its unique_together message is one for the whole formset.
        seen = {}
        live = []
        for form in self.forms:
            if not form.has_changed() and not form.instance.pk:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            net = form.cleaned_data.get("network") if not form.errors else None
            if not net:
                continue
            if net in seen:
                form.add_error("network", f"{net} is listed twice.")
                continue
            seen[net] = form
            live.append(net)
        if not live and not any(f.errors for f in self.forms):
            raise forms.ValidationError("Add at least one authorized IP or range.")
        if self.tech_prefix and self.tenant is not None:
            clashes = overlaps_by_network(
                self.tenant.pk, self.tech_prefix, live, exclude_trunk=self.instance.pk
            )
            for net, message in clashes.items():
                seen[net].add_error("network", message)
        self.valid_networks = [n for n in live if not seen[n].errors]


NetworkFormSet = inlineformset_factory(
    Trunk,
    TrunkNetwork,
    form=NetworkRowForm,
    formset=BaseNetworkFormSet,
    extra=1,
    can_delete=True,
)


class TrunkForm(TenantModelForm):
    """A trunk with its Authorized IPs in the same form (``self.networks`` formset)."""

    codecs = forms.MultipleChoiceField(
        choices=CODEC_CHOICES,
        initial=default_codecs,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-inline"}),
        help_text="Codecs this trunk may offer.",
    )

    class Meta:
        model = Trunk
        fields = [
            "customer",
            "name",
            "tech_prefix",
            "rate_plan",
            "max_concurrent_calls",
            "max_cps",
            "codecs",
            "status",
            "ingress_translation",
            "number_lists",
        ]
        # 10,000 customers must not render 10,000 options: search as you type.
        widgets = {
            "customer": SearchSelect("customers:customer_options", placeholder="Search customers…"),
            "ingress_translation": SearchSelect(
                "routing:policy_options",
                params={"kind": "translation_set"},
                placeholder="Search translation sets…",
            ),
            "number_lists": SearchSelectMultiple(
                "routing:policy_options",
                params={"kind": "number_list"},
                placeholder="Search number lists…",
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate_plan"].queryset = self.fields["rate_plan"].queryset.order_by("name")
        self.fields["ingress_translation"].empty_label = "None: numbers as sent"
        self.fields["number_lists"].label = "Number lists"
        keep_unsent(self, "ingress_translation", "number_lists")
        self.networks = NetworkFormSet(
            self.data if self.is_bound else None,
            instance=self.instance,
            prefix="networks",
        )
        self.networks.tenant = self.tenant
        self.helper = _no_form_tag_helper(
            Layout(
                "customer",
                "name",
                "tech_prefix",
                "rate_plan",
                "max_concurrent_calls",
                Field("codecs"),
                "status",
                Fieldset(
                    "Routing policy",
                    *[n for n in ("ingress_translation", "number_lists") if n in self.fields],
                    css_id="routing-policy",
                    css_class="border rounded p-3 mb-3 fieldset-box",
                ),
            )
        )

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if (
            self.instance.pk
            and customer is not None
            and customer.pk != self.instance.customer_id
            and self.instance.dialpeers.exists()
        ):
            self.add_error(
                "customer",
                "This trunk carries dialpeers of its current customer; remove them before "
                "moving the trunk to another customer.",
            )
        self.networks.tech_prefix = cleaned.get("tech_prefix")
        self.networks.full_clean()
        # The model's own overlap check (run next, in _post_clean) must see the submitted
        # networks, not the saved ones; rows already flagged are left out so the clash is
        # reported once, on its row.
        self.instance._pending_networks = getattr(self.networks, "valid_networks", [])
        return cleaned

    def is_valid(self):
        valid = super().is_valid()
        return self.networks.is_valid() and valid

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        with ingress_checked_on_completion():  # the prefix and the networks, together
            trunk = super().save()
            self.networks.instance = trunk
            self.networks.save()
        return trunk


class RatePlanForm(TenantModelForm):
    class Meta:
        model = RatePlan
        fields = ["name", "currency", "status"]


class RateForm(TenantModelForm):
    """A destination of one plan (the view fixes the plan). The description fills from the
    dialplan when the code field loses focus (htmx) and on save when left empty."""

    class Meta:
        model = Rate
        fields = [
            "code",
            "description",
            "valid_since",
            "rate_per_min",
            "connection_fee",
            "connection_sec",
            "billing_block_sec",
        ]
        widgets = {
            "valid_since": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, rate_plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.rate_plan = rate_plan
        self.fields["code"].help_text = "Digits only; empty means any destination."
        self.fields["description"].help_text = "Left empty, it is filled from the dialplan."
        self.fields["valid_since"].help_text = "UTC. A new destination starts now."
        if self.instance.pk is None and "valid_since" not in self.initial:
            # Without a default the first save of every new destination failed.
            self.initial["valid_since"] = timezone.now().replace(second=0, microsecond=0)

    @cached_property
    def helper(self):
        """Built when the page renders the form, not for every row an import validates."""
        return _no_form_tag_helper(
            Layout(
                Field(
                    "code",
                    hx_get=reverse("customers:rate_describe"),
                    hx_trigger="blur, change",
                    hx_target="#description-field",
                    hx_include="#id_code, #id_description, [name=description_auto]",
                    hx_sync="this:replace",
                    autocomplete="off",
                ),
                Div("description", css_id="description-field"),
                "valid_since",
                "rate_per_min",
                "connection_fee",
                "connection_sec",
                "billing_block_sec",
            )
        )

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("rate_plan")
        return exclude


class BalanceEntryForm(forms.ModelForm):
    """Record a payment or an adjustment on one customer (the customer comes from the URL).

    The model validates (a payment above 0, an adjustment not 0 and with a note, 2 decimal
    places, |amount| < 10^10); saving it moves the balance (BalanceEntry.save)."""

    class Meta:
        model = BalanceEntry
        fields = ["kind", "amount", "reference", "note"]
        error_messages = {"amount": AMOUNT_ERRORS}
        widgets = {
            # Text, not type=number: the browser would blank a typo instead of letting the
            # server say what is wrong with it.
            "amount": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.customer = customer
        self.fields["amount"].widget.attrs["placeholder"] = "100.00"
        self.helper = _no_form_tag_helper()
