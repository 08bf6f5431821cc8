"""Shared base views: tenant-scoped list/detail/add/edit/delete, configured the admin's way.

A concrete view sets ``model`` (plus ``table_class``/``filterset_class``/``form_class``)
and overrides ``get_*`` hooks only where it must. Every queryset comes from
:func:`vmgate.tenancy.scoped`, so another tenant's id is a 404 like a missing one.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode
from django.views import generic
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from vmgate import export
from vmgate.paging import (
    PAGE_FIELD,
    PER_PAGE_CHOICES,
    deferred_paging,
    is_filtered,
    per_page_for,
    total_order,
)
from vmgate.tenancy import require_operator, scoped, tenant_or_404


def model_url_name(model, action):
    meta = model._meta
    return f"{meta.app_label}:{meta.model_name}_{action}"


CONFLICT_MESSAGE = "This change conflicts with one just saved by someone else; try again."


def forget_failed_insert(instance, adding):
    """After a rolled-back save, make a new ``instance`` new again (the INSERT gave it a
    primary key that no row has)."""
    if adding:
        instance.pk = None
        instance._state.adding = True


def revalidate_after_conflict(form, adding):
    """A save lost a race past validation (the database refused it with an IntegrityError):
    validate ``form`` again, now against what the winner committed, so the error names it.
    Should nothing be found (the winner already gone again), say what happened."""
    forget_failed_insert(form.instance, adding)
    form.full_clean()
    if form.is_valid():
        form.add_error(None, CONFLICT_MESSAGE)


class TenantMixin:
    """Resolves the request's tenant; a login without one gets 404 for tenant data."""

    model = None

    @property
    def tenant(self):
        return tenant_or_404(self.request)

    @property
    def can_write(self):
        membership = getattr(self.request, "membership", None)
        return bool(membership and membership.can_write)

    def require_write(self):
        require_operator(self.request)

    def get_base_queryset(self):
        """The tenant's rows of ``model``; override to add select_related/annotations."""
        return scoped(self.model, self.tenant)

    def get_queryset(self):
        return self.get_base_queryset()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        meta = self.model._meta
        ctx.setdefault("verbose_name", meta.verbose_name)
        ctx.setdefault("verbose_name_plural", meta.verbose_name_plural)
        ctx["can_write"] = self.can_write
        ctx["list_url"] = self.get_list_url()
        if self.show_breadcrumbs:
            ctx.setdefault("breadcrumbs", self.get_breadcrumbs())
        return ctx

    def get_list_url(self):
        """Where Back/Cancel and a delete lead; override for a nested list (a plan's rates)."""
        return reverse(model_url_name(self.model, "list"))

    #: The last breadcrumb after the object ("Edit", "Remove"); None on a detail page.
    breadcrumb_action = None
    #: Lists show their place in the sidebar; their pages carry no breadcrumbs.
    show_breadcrumbs = True

    def get_breadcrumb_parents(self):
        """The crumbs between Home and the object: its list; override for a nested one."""
        return [(self.model._meta.verbose_name_plural.capitalize(), self.get_list_url())]

    def get_breadcrumbs(self):
        """Home › list › object › action, as (label, url) pairs (the last is the page)."""
        crumbs = [("Home", reverse("home")), *self.get_breadcrumb_parents()]
        obj = getattr(self, "object", None)
        if obj is not None and obj.pk is not None:
            crumbs.append((str(obj), getattr(obj, "get_absolute_url", lambda: "")()))
        if self.breadcrumb_action:
            crumbs.append((self.breadcrumb_action, ""))
        return crumbs


class TenantFormMixin(TenantMixin):
    """Passes the tenant to the form (TenantModelForm scopes every choice with it)."""

    def dispatch(self, request, *args, **kwargs):
        # Every method, GET included: a viewer typing an add/edit/delete address gets the
        # 403 page, not a form it could never submit.
        if request.user.is_authenticated:
            membership = getattr(request, "membership", None)
            if membership is None or not membership.can_write:
                raise PermissionDenied("Viewers have read-only access.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["tenant"] = self.tenant
        return kwargs

    def form_valid(self, form):
        adding = form.instance._state.adding
        try:
            with transaction.atomic():
                self.object = form.save()
        except IntegrityError:
            revalidate_after_conflict(form, adding)
            return self.form_invalid(form)
        messages.success(
            self.request, f"{self.model._meta.verbose_name.capitalize()} “{self.object}” saved."
        )
        return redirect(self.get_success_url())

    def get_success_url(self):
        url = self.object.get_absolute_url() if hasattr(self.object, "get_absolute_url") else ""
        return url or self.get_list_url()


@dataclass(frozen=True)
class ChildExport:
    """``?export=<param>`` on a list: the children of the listed rows (``rows(parent pks)``,
    a queryset in export order) as ``columns``, the columns of their import kind."""

    param: str
    filename: str
    columns: tuple
    rows: Callable
    button: tuple  # (label, data-testid)
    import_kind: str = ""
    import_label: str = ""  # "" when the list's own Import already is that kind


class TenantListView(TenantMixin, SingleTableMixin, FilterView):
    """A list page: filters, a sortable table paged by :mod:`vmgate.paging`, its total,
    a per-page choice remembered for the user, and an empty state that tells "nothing
    matches these filters" (with a link that clears them) from "none yet" (with the add
    button, for operators).

    Its address is always its own: sort and page links carry the list's path, and the
    filter form's htmx responses name the address to show (``HX-Push-Url``). An htmx
    request gets the list body only, except a history restore (Back after the browser
    dropped htmx's copy), which gets the whole page.
    """

    template_name = "generic/object_list.html"
    body_template_name = "generic/_list_body.html"
    add_label = None
    show_breadcrumbs = False
    list_actions_template = None  # rendered above the table (e.g. bulk actions)
    list_noun = list_noun_plural = None  # "3 destinations"; default: the model's names
    # ``page_rows(pks)``: the queryset that loads one page's rows with the figures the table
    # shows (see vmgate.paging.deferred_paging); None loads them from the list's queryset.
    page_rows = None
    # The CSV export (``?export=csv``, vmgate.export): the kind's columns, and what to join
    # (select_related) and prefetch so that streaming any number of rows costs a fixed
    # number of queries per chunk.
    export_columns = ()
    export_related = ()
    export_prefetch = ()
    #: The import kind (vmgate.import_kinds.KINDS) this list offers as *Import*, if any.
    import_kind = None
    #: The children of the listed rows, exported beside them in their import kind's columns
    #: (a rule's targets, a translation set's rules, a schedule's windows): ChildExports.
    child_exports = ()

    def get(self, request, *args, **kwargs):
        asked = request.GET.get(export.EXPORT_PARAM)
        child = next((c for c in self.child_exports if c.param == asked), None)
        if (child or export.wants_csv(request)) and (child or self.export_columns):
            filterset = self.get_filterset(self.get_filterset_class())
            if not filterset.is_bound or filterset.is_valid():
                if child is not None:
                    rows = child.rows(filterset.qs.values("pk"))
                    return export.csv_response(
                        child.filename, child.columns, rows.iterator(chunk_size=export.CHUNK)
                    )
                return self.export_csv(filterset.qs)
            # invalid filters: the page itself, which shows their errors
        return super().get(request, *args, **kwargs)

    def export_filename(self):
        return str(self.model._meta.verbose_name_plural)

    def export_csv(self, queryset):
        """Every row of the filtered list, in the list's sort order (the same ``sort``
        parameter, then the primary key), streamed."""
        table = self.get_table_class()(data=queryset)
        sort = [s for s in self.request.GET.getlist(table.prefixed_order_by_field) if s]
        if sort:
            table.order_by = sort  # unknown names are dropped, as on the page
        rows = total_order(table.data.data)
        if self.export_related:
            rows = rows.select_related(*self.export_related)
        if self.export_prefetch:
            rows = rows.prefetch_related(*self.export_prefetch)
        return export.csv_response(
            self.export_filename(), self.export_columns, rows.iterator(chunk_size=export.CHUNK)
        )

    def export_url(self):
        """This list's address (filters and sort kept, no page) with ``export=csv``."""
        pairs = [
            (k, v)
            for k, values in self.request.GET.lists()
            if k not in (PAGE_FIELD, export.EXPORT_PARAM)
            for v in values
            if v.strip()
        ]
        pairs.append((export.EXPORT_PARAM, export.EXPORT_CSV))
        return f"{escape_uri_path(self.request.path)}?{urlencode(pairs)}"

    def is_partial(self):
        htmx = self.request.htmx
        return bool(htmx) and not htmx.boosted and not htmx.history_restore_request

    def get_template_names(self):
        return [self.body_template_name] if self.is_partial() else [self.template_name]

    def get_table_data(self):
        return deferred_paging(super().get_table_data(), rows=self.page_rows)

    def get_table(self, **kwargs):
        # The table orders and pages itself from the request (vmgate.tables.PagedTable).
        self.per_page = per_page_for(self.request)
        return self.get_table_class()(
            data=self.get_table_data(), request=self.request, per_page=self.per_page, **kwargs
        )

    def get_table_kwargs(self):
        return {}

    def get_paginate_by(self, queryset):
        # The table paginates; ListView paginating object_list as well would count it again.
        return None

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        try:
            ctx["add_url"] = reverse(model_url_name(self.model, "add"))
        except NoReverseMatch:  # a model without an add page has no add button
            ctx["add_url"] = None
        ctx["add_label"] = self.add_label or f"+ Add {self.model._meta.verbose_name}"
        meta = self.model._meta
        ctx["list_noun"] = self.list_noun or str(meta.verbose_name)
        ctx["list_noun_plural"] = self.list_noun_plural or str(meta.verbose_name_plural)
        table = ctx["table"]
        ctx["list_empty_text"] = table.empty_text or f"No {ctx['list_noun_plural']} yet."
        ctx["list_filtered"] = is_filtered(self.request)
        ctx["per_page_choices"] = PER_PAGE_CHOICES
        ctx["list_actions_template"] = self.list_actions_template
        ctx["export_url"] = self.export_url() if self.export_columns else None
        ctx["import_url"] = self.import_url() if self.import_kind and self.can_write else None
        if ctx["export_url"] and self.child_exports:
            csv = f"{export.EXPORT_PARAM}={export.EXPORT_CSV}"
            ctx["extra_exports"] = [
                (ctx["export_url"].replace(csv, f"{export.EXPORT_PARAM}={c.param}"), *c.button)
                for c in self.child_exports
            ]
        if self.can_write:
            ctx["extra_imports"] = [
                (reverse("vmgate:importupload_add", args=[c.import_kind]), c.import_label)
                for c in self.child_exports
                if c.import_label
            ]
        return ctx

    def import_url(self):
        return reverse("vmgate:importupload_add", args=[self.import_kind])

    def own_url(self):
        """This list's address with the request's non-empty parameters."""
        pairs = [(k, v) for k, values in self.request.GET.lists() for v in values if v.strip()]
        path = escape_uri_path(self.request.path)
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        # One address, two bodies (page or list body): caches must keep them apart.
        patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
        if self.is_partial():
            response["HX-Push-Url"] = self.own_url()
        return response


class TenantDetailView(TenantMixin, generic.DetailView):
    template_name = "generic/object_detail.html"


class TenantCreateView(TenantFormMixin, generic.CreateView):
    template_name = "generic/object_form.html"
    submit_label = "Create"

    @property
    def breadcrumb_action(self):
        return f"Add {self.model._meta.verbose_name}"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["submit_label"] = self.submit_label
        ctx.setdefault("title", f"Add {self.model._meta.verbose_name}")
        return ctx


class TenantUpdateView(TenantFormMixin, generic.UpdateView):
    template_name = "generic/object_form.html"
    submit_label = "Save"
    breadcrumb_action = "Edit"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["submit_label"] = self.submit_label
        ctx.setdefault("title", f"Edit {self.model._meta.verbose_name} {self.object}")
        return ctx


class TenantDeleteView(TenantFormMixin, generic.DeleteView):
    """Confirmation page; a PROTECT-ed delete is refused with the reason, never a 500."""

    template_name = "generic/object_confirm_delete.html"
    breadcrumb_action = "Remove"

    def get_form_kwargs(self):
        kwargs = super(TenantFormMixin, self).get_form_kwargs()
        return kwargs

    def get_success_url(self):
        return self.get_list_url()

    def delete_refusal(self, obj):
        """A sentence saying why ``obj`` can't be deleted now, or None."""
        return None

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["refusal"] = self.delete_refusal(self.object)
        return ctx

    def form_valid(self, form):
        refusal = self.delete_refusal(self.object)
        if refusal:
            messages.error(self.request, refusal)
            return redirect(self.request.path)
        name = str(self.object)
        try:
            with transaction.atomic():
                self.object.delete()
        except ProtectedError as exc:
            used_by = sorted({str(o) for o in exc.protected_objects})[:5]
            messages.error(self.request, f"“{name}” is still used by: {', '.join(used_by)}.")
            return redirect(self.request.path)
        messages.success(
            self.request, f"{self.model._meta.verbose_name.capitalize()} “{name}” removed."
        )
        return redirect(self.get_success_url())
