"""The test-call page: route a call by hand and see every step of the decision.

A plain function view (DESIGN.md §4). The form is a GET form (a test call changes
nothing, so viewers may use it too); with htmx only the result partial is rendered.
"Save as check" POSTs the case to :func:`save_as_check` (operators only).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from customers.forms import dependent_trunk_select
from customers.models import Customer, Trunk
from customers.options import trunk_label
from dialpeers.models import Dialpeer
from routing.checks.running import record_result
from routing.dialplan import TYPED_SEPARATORS
from routing.engine import IngressError, calling_digits, parse_source_ip, route_call
from routing.models import RoutingCheck, RoutingRule
from vmgate.tenancy import parse_pk, require_operator, scoped, tenant_or_404
from vmgate.widgets import SearchSelect


class CallForm(forms.Form):
    """Origin customer → SIP trunk (or a source IP), the called number, an optional time."""

    customer = forms.ModelChoiceField(
        queryset=Customer.objects.none(),
        required=False,
        label="Origin customer",
        widget=SearchSelect(
            "customers:customer_options",
            params={"with_trunks": "1"},
            placeholder="Search customers…",
        ),
    )
    trunk = forms.ModelChoiceField(
        queryset=Trunk.objects.none(),
        required=False,
        label="SIP trunk (ingress)",
        widget=dependent_trunk_select(),
    )
    source_ip = forms.CharField(
        required=False,
        max_length=64,
        label="or source IP",
        help_text="Identify the trunk by the address the INVITE came from.",
    )
    called_number = forms.CharField(
        max_length=80,
        label="Called number",
        help_text="As it arrives, with the tech prefix. Spaces and dashes are removed.",
    )
    calling_number = forms.CharField(
        required=False,
        max_length=40,
        label="Calling number",
        help_text="Optional: the caller's number (From), for calling-number lists.",
    )
    at = forms.DateTimeField(
        required=False,
        label="Call time (UTC)",
        help_text="Empty: now. Picks the rate in effect then and opens or shuts schedules.",
        widget=forms.DateTimeInput(attrs={"placeholder": "2026-06-01 12:00"}),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["customer"].queryset = scoped(Customer, tenant)
        customer_pk = parse_pk(
            self.data.get("customer") if self.is_bound else self.initial.get("customer")
        )
        trunks = scoped(Trunk, tenant)
        self.fields["trunk"].queryset = (
            trunks.filter(customer_id=customer_pk).order_by("name", "id")
            if customer_pk
            else trunks.none()
        )
        self.fields["trunk"].label_from_instance = trunk_label
        self.typed_number = None
        self.fields["trunk"].widget.attrs["class"] = "form-select"
        for name in ("source_ip", "called_number", "calling_number", "at"):
            css = "form-control font-monospace" if name != "at" else "form-control"
            self.fields[name].widget.attrs["class"] = css
        self.fields["trunk"].help_text = "The chosen customer's trunks."

    def clean_called_number(self):
        typed = self.cleaned_data["called_number"]
        number = TYPED_SEPARATORS.sub("", typed)
        if not number:
            raise forms.ValidationError("Enter the called number.")
        if len(number) > 64:
            raise forms.ValidationError("At most 64 characters.")
        if number != typed:
            self.typed_number = typed
        return number

    def clean_calling_number(self):
        number = TYPED_SEPARATORS.sub("", self.cleaned_data["calling_number"])
        try:
            calling_digits(number)
        except IngressError as exc:
            raise forms.ValidationError(str(exc)) from None
        return number

    def clean_source_ip(self):
        value = self.cleaned_data["source_ip"].strip()
        if not value:
            return ""
        try:
            parse_source_ip(value)
        except IngressError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def clean(self):
        data = super().clean()
        trunk, ip = data.get("trunk"), data.get("source_ip")
        if "trunk" in self.errors or "source_ip" in self.errors:
            return data
        if trunk and ip:
            raise forms.ValidationError("Give either a trunk or a source IP, not both.")
        if not trunk and not ip:
            raise forms.ValidationError("Pick the customer and trunk, or type a source IP.")
        return data

    def decide(self):
        d = self.cleaned_data
        return route_call(
            self.tenant,
            called_number=d["called_number"],
            trunk=d["trunk"] or None,
            source_ip=d["source_ip"] or None,
            at=d["at"],
            explain=True,
            calling_number=d["calling_number"] or None,
        )


def last_change(model, pk):
    """When and by whom ``model`` row ``pk`` was last changed (simple-history), or None."""
    record = (
        model.history.filter(id=pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is None:
        return None
    return {
        "when": record.history_date,
        # Only a change made through a request knows its author; say nothing rather than
        # "by unknown" for one made by a script or the seed data.
        "who": record.history_user.get_username() if record.history_user else "",
        "action": {"+": "created", "~": "changed", "-": "deleted"}.get(record.history_type, ""),
    }


def prefill_url(*, trunk=None, called_number="", source_ip="", at=None, calling_number=""):
    """The Test call page opened pre-filled (not run): the "Test a call" shortcuts of a
    dialpeer, a trunk and a failing routing check."""
    params = {"prefill": "1"}
    if trunk is not None:
        params.update(customer=trunk.customer_id, trunk=trunk.pk)
    if source_ip:
        params["source_ip"] = source_ip
    if called_number:
        params["called_number"] = called_number
    if calling_number:
        params["calling_number"] = calling_number
    if at:
        params["at"] = at.strftime("%Y-%m-%d %H:%M")
    return f"{reverse('routing:test_call')}?{urlencode(params)}"


def prefill_initial(params, tenant):
    """Initial data from ``?prefill=1&…``: each value the tenant's and well-formed, or left
    out (a bad or foreign value is ignored, never an error)."""
    initial = {}
    trunk = scoped(Trunk, tenant).filter(pk=parse_pk(params.get("trunk")) or 0).first()
    customer_pk = parse_pk(params.get("customer"))
    if trunk is not None and (customer_pk in (None, trunk.customer_id)):
        initial.update(customer=trunk.customer_id, trunk=trunk.pk)
    elif customer_pk and scoped(Customer, tenant).filter(pk=customer_pk).exists():
        initial["customer"] = customer_pk
    number = TYPED_SEPARATORS.sub("", params.get("called_number", ""))
    if number.isascii() and number.isdigit() and len(number) <= 64:
        initial["called_number"] = number
    calling = TYPED_SEPARATORS.sub("", params.get("calling_number", ""))
    try:
        if calling_digits(calling):
            initial["calling_number"] = calling
    except IngressError:
        pass
    source_ip = params.get("source_ip", "").strip()
    if source_ip and "trunk" not in initial:
        try:
            parse_source_ip(source_ip)
            initial["source_ip"] = source_ip
        except IngressError:
            pass
    try:
        at = forms.DateTimeField(required=False).clean(params.get("at", ""))
    except forms.ValidationError:
        at = None
    if at:
        initial["at"] = params["at"]
    return initial


@require_GET
def test_call(request):
    tenant = tenant_or_404(request)
    if request.GET.get("prefill"):
        form = CallForm(initial=prefill_initial(request.GET, tenant), tenant=tenant)
    else:
        form = CallForm(request.GET or None, tenant=tenant)
    ctx = {"form": form, "decision": None}
    if form.is_bound and form.is_valid():
        decision = form.decide()
        ctx["decision"] = decision
        ctx["typed_number"] = form.typed_number
        ctx["rule_change"] = last_change(RoutingRule, decision.rule.id) if decision.rule else None
        ctx["dialpeer_change"] = (
            last_change(Dialpeer, decision.dialpeer.id) if decision.dialpeer else None
        )
        ctx["save_initial"] = {
            "customer": form.cleaned_data["customer"].pk if form.cleaned_data["customer"] else "",
            "trunk": form.cleaned_data["trunk"].pk if form.cleaned_data["trunk"] else "",
            "source_ip": form.cleaned_data["source_ip"],
            "called_number": form.cleaned_data["called_number"],
            "calling_number": form.cleaned_data["calling_number"],
            "at": request.GET.get("at", ""),
            "name": _check_name(decision, form.cleaned_data),
        }
    membership = getattr(request, "membership", None)
    ctx["can_write"] = bool(membership and membership.can_write)
    if request.htmx and form.is_bound:
        return render(request, "routing/test_call.html#result", ctx)
    return render(request, "routing/test_call.html", ctx)


def _check_name(decision, data):
    via = data["trunk"].name if data["trunk"] else data["source_ip"]
    return f"{data['called_number']} via {via}"[:200]


@require_POST
def save_as_check(request):
    """Store the test call as a routing check expecting today's outcome, reason and rule."""
    tenant = require_operator(request)
    form = CallForm(request.POST, tenant=tenant)
    name = (request.POST.get("name") or "").replace("\x00", "").strip()[:200]
    if not form.is_valid() or not name:
        messages.error(
            request, "The test call could not be saved as a check: " + _errors(form, name)
        )
        return redirect(reverse("routing:test_call"))
    decision = form.decide()
    d = form.cleaned_data
    check = RoutingCheck(
        tenant=tenant,
        name=name,
        trunk=d["trunk"] or None,
        source_ip=d["source_ip"] or None,
        called_number=d["called_number"],
        calling_number=d["calling_number"],
        at=d["at"],
        expected_outcome=decision.outcome,
        expected_reason=decision.reason,
        expected_rule=scoped(RoutingRule, tenant).filter(pk=decision.rule.id).first()
        if decision.rule
        else None,
    )
    check.full_clean()
    check.save()
    record_result(check, decision)
    messages.success(request, f"Saved routing check “{check.name}”.")
    return redirect(reverse("routing:routingcheck_list"))


def _errors(form, name):
    parts = [" ".join(errs) for errs in form.errors.values()]
    if not name:
        parts.append("a name is required.")
    return " ".join(parts) or "invalid input."
