"""Dialpeer pages: list (search, filters, bulk activate/deactivate), detail with History,
add/edit (customer → trunk dependent dropdown, searchable rules) and remove.

A save (add or edit) locks the row of the trunk the form names (``SELECT … FOR NO KEY
UPDATE``) before the form is validated, so two operators saving at the same moment are
serialised: exactly one row is stored and the other operator's validation sees it and gets
the plain-words error. The database holds both rules whoever writes (the unique constraint
and the one-active-code index, dialpeers/rule_code.py): when a write from another path (the
API, the admin) wins the race past validation, its IntegrityError makes the form validate
again, which names the winner. The lock is "no key" so that it never blocks the foreign-key
check of a concurrent insert on the same trunk (which would deadlock against the index).
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.views import View

from customers.models import Trunk, lock_trunks
from dialpeers.bulk import DIALPEER
from dialpeers.filtersets import DialpeerFilterSet
from dialpeers.forms import DialpeerForm
from dialpeers.models import Dialpeer
from dialpeers.tables import DialpeerTable
from routing.dialplan import CATCH_ALL
from routing.models import RoutingTarget
from vmgate.history import history_rows
from vmgate.tenancy import parse_pk, scoped
from vmgate.views import (
    CONFLICT_MESSAGE,
    TenantCreateView,
    TenantDeleteView,
    TenantDetailView,
    TenantListView,
    TenantMixin,
    TenantUpdateView,
    revalidate_after_conflict,
)

BULK_MAX = 500


class DialpeerQuerysetMixin:
    model = Dialpeer

    def get_base_queryset(self):
        return scoped(Dialpeer, self.tenant).select_related(
            "customer", "trunk", "rule__trunk__customer"
        )


class DialpeerListView(DialpeerQuerysetMixin, TenantListView):
    table_class = DialpeerTable
    filterset_class = DialpeerFilterSet
    export_columns = DIALPEER
    import_kind = "dialpeers"
    export_related = ("customer", "trunk", "rule")
    template_name = "dialpeers/dialpeer_list.html"
    list_actions_template = "dialpeers/_bulk_form.html"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["tenant"] = self.tenant
        return kwargs


class DialpeerDetailView(DialpeerQuerysetMixin, TenantDetailView):
    template_name = "dialpeers/dialpeer_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["history_rows"] = history_rows(self.object)
        ctx["targets"] = (
            scoped(RoutingTarget, self.tenant)
            .filter(rule_id=self.object.rule_id)
            .select_related("network", "client", "sim_slot__client")
        )
        return ctx


def _link(url_name, label):
    try:
        return format_html('<a href="{}">{}</a>', reverse(url_name), label)
    except NoReverseMatch:
        return label


class DialpeerFormMixin(DialpeerQuerysetMixin):
    form_class = DialpeerForm
    template_name = "dialpeers/dialpeer_form.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["prerequisites"] = self.missing_prerequisites()
        return ctx

    def missing_prerequisites(self):
        """What to create first, as safe HTML sentences (two EXISTS queries)."""
        missing = []
        if not scoped(Trunk, self.tenant).exists():
            missing.append(
                format_html(
                    "There is no customer with a trunk yet: add a {} and then a {} for it "
                    "(its ingress SIP trunk).",
                    _link("customers:customer_add", "customer"),
                    _link("customers:trunk_add", "trunk"),
                )
            )
        if not scoped(RoutingTarget, self.tenant).exists():
            missing.append(
                format_html(
                    "There is no routing rule with targets yet: add a {} and give it targets.",
                    _link("routing:routingrule_add", "routing rule"),
                )
            )
        return missing

    def post(self, request, *args, **kwargs):
        """Validate and save under the lock of the trunk the form names, so that of two
        saves at once the second is validated against what the first committed, in full
        (without it, its checks could straddle the other's commit and report only part of
        the clash). On SQLite the transaction itself serialises (IMMEDIATE mode)."""
        trunk_id = parse_pk(request.POST.get("trunk"))
        with transaction.atomic():
            if trunk_id is not None:
                lock_trunks(scoped(Trunk, self.tenant), [trunk_id])
            return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        adding = form.instance._state.adding
        try:
            with transaction.atomic():  # a savepoint: the backstop below can still query
                self.object = form.save()
        except IntegrityError:
            # Another path committed a clashing row past our validation: validate again
            # (in this transaction, which now sees that commit) to name it.
            revalidate_after_conflict(form, adding)
            return self.form_invalid(form)
        messages.success(self.request, f"Dialpeer “{self.object}” saved.")
        return redirect(self.get_success_url())

    def get_success_url(self):
        return reverse("dialpeers:dialpeer_list")


class DialpeerCreateView(DialpeerFormMixin, TenantCreateView):
    submit_label = "Create"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", "Add dialpeer")
        return super().get_context_data(**kwargs)


class DialpeerUpdateView(DialpeerFormMixin, TenantUpdateView):
    submit_label = "Save"


class DialpeerDeleteView(DialpeerQuerysetMixin, TenantDeleteView):
    template_name = "dialpeers/dialpeer_confirm_delete.html"


class DialpeerBulkView(TenantMixin, View):
    """POST ``action=activate|deactivate`` with ``pk`` values: all or nothing.

    An activation that would give one trunk two active dialpeers for the same code is
    refused with the clashes named, and nothing changes.
    """

    model = Dialpeer
    http_method_names = ["post"]

    def post(self, request):
        self.require_write()
        back = self.back_url()
        action = request.POST.get("action")
        if action not in ("activate", "deactivate"):
            messages.error(request, "Choose Activate or Deactivate.")
            return HttpResponseRedirect(back)
        pks = set(map(parse_pk, request.POST.getlist("pk")[:BULK_MAX])) - {None}
        if not pks:
            messages.error(request, "Select at least one dialpeer first.")
            return HttpResponseRedirect(back)
        want = action == "activate"
        # A writer that does not lock the trunks (the API, the admin) can commit a clashing
        # activation after our check; the database then refuses ours (IntegrityError), and
        # the second pass, checking again, names that dialpeer.
        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    rows, changing, clashes = self.apply(pks, want)
                break
            except IntegrityError:
                if attempt == 2:
                    messages.error(request, f"Nothing was changed. {CONFLICT_MESSAGE}")
                    return HttpResponseRedirect(back)
        if clashes:
            messages.error(
                request,
                format_html(
                    "Nothing was activated: that would route one code twice on a trunk. {}",
                    format_html_join(" ", "<span class='d-block'>{}</span>", clashes),
                ),
            )
            return HttpResponseRedirect(back)
        verb = "activated" if want else "deactivated"
        unchanged = len(rows) - len(changing)
        text = f"{len(changing)} dialpeer{'s' if len(changing) != 1 else ''} {verb}."
        if unchanged:
            text += f" {unchanged} already {'active' if want else 'inactive'}."
        messages.success(request, text)
        return HttpResponseRedirect(back)

    def apply(self, pks, want):
        """Set ``is_active`` to ``want`` on the tenant's dialpeers ``pks``, unless that would
        route a code twice: then change nothing. Returns (rows, changed rows, clashes)."""
        rows = list(
            scoped(Dialpeer, self.tenant)
            .filter(pk__in=pks)
            .select_related("trunk", "rule__trunk__customer")
            .order_by("trunk_id", "id")
        )
        # Lock the trunks in a fixed order (no deadlock with other bulk actions or saves).
        lock_trunks(Trunk.objects.all(), sorted({d.trunk_id for d in rows}))
        changing = [d for d in rows if d.is_active != want]
        clashes = self.activation_clashes(changing) if want else []
        if clashes:
            return rows, [], clashes
        for dialpeer in changing:
            dialpeer.is_active = want
            # save() (never QuerySet.update()) so History records who did it.
            dialpeer.save(update_fields=["is_active"])
        return rows, changing, []

    def activation_clashes(self, activating):
        """Sentences naming each code that would end up routed twice on one trunk."""
        if not activating:
            return []
        trunk_ids = {d.trunk_id for d in activating}
        ids = {d.pk for d in activating}
        active = (
            Dialpeer.objects.filter(trunk_id__in=trunk_ids, is_active=True)
            .exclude(pk__in=ids)
            .select_related("trunk", "rule__trunk__customer")
        )
        seen = {(d.trunk_id, d.rule.code): d for d in active}
        clashes = []
        for dialpeer in activating:
            key = (dialpeer.trunk_id, dialpeer.rule.code)
            other = seen.get(key)
            if other is not None:
                clashes.append(
                    (
                        f"“{dialpeer.name}”: dialpeer “{other.name}” already routes code "
                        f"{dialpeer.rule.code or CATCH_ALL} on trunk “{dialpeer.trunk.name}”.",
                    )
                )
            else:
                seen[key] = dialpeer
        return clashes

    def back_url(self):
        url = reverse("dialpeers:dialpeer_list")
        query = self.request.POST.get("query", "").replace("\x00", "")[:2000]
        # Re-encoded, so the redirect never carries raw text from the form.
        query = QueryDict(query).urlencode() if query else ""
        return f"{url}?{query}" if query else url
