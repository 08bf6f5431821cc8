"""The importable kinds (SPEC §8): for each, the columns (the export's, from ``*/bulk.py``),
the key that finds a row's existing object, and the form that validates it — the page's own
form, so an import refuses exactly what the page refuses, with the same message.

Rows are staged one by one (each saved in a savepoint, so later rows see earlier ones, as a
person clicking them in would), inside the one transaction of :func:`vmgate.imports.run_import`.
Rates, the big kind (a 100,000-code deck), validate with the rate form and are written in
bulk (:class:`RateKind`). The routing policy's kinds (:class:`PolicyKind`: translation rules,
number-list entries, schedule windows) validate each row with the model's own
``full_clean()`` and are written in bulk too: a number list holds 10,000+ entries.
"""

from __future__ import annotations

import json
import re
from datetime import time

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, Q
from django.db.models.functions import Lower
from django.forms import modelform_factory
from django.utils import timezone
from django.utils.html import strip_tags
from simple_history.utils import bulk_create_with_history

from customers import bulk as customer_bulk
from customers.forms import CustomerForm, RateForm, TrunkForm
from customers.models import Customer, Rate, RatePlan, Trunk
from customers.views import customer_delete_refusal, trunk_delete_refusal
from dialpeers.bulk import DIALPEER
from dialpeers.forms import DialpeerForm
from dialpeers.models import Dialpeer
from routing import bulk as routing_bulk
from routing import policy
from routing.forms import (
    NetworkForm,
    RoutingRuleForm,
    RoutingTargetForm,
    SimSlotFormSet,
    VMGateClientForm,
)
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
from vmgate.export import cell
from vmgate.imports import (
    RowChange,
    RowErrors,
    bool_value,
    diff,
    fail,
    form_errors,
    protected_message,
    rows_as_dicts,
    saved,
    text_value,
)
from vmgate.views import revalidate_after_conflict


def plain(value):
    return cell(value, neutralise=False)


def _name_key(value):
    return (value or "").strip().lower()


class Kind:
    """One importable kind; subclasses say how a row maps to its object and form."""

    key = ""  # the URL/command name: "customers"
    noun = plural = ""
    model = None
    columns = ()
    key_columns = ()
    optional_columns = frozenset()
    code_columns = frozenset()
    bool_columns = frozenset()
    list_url = ""  # the list page that offers the import
    needs_rate_plan = False

    @property
    def column_names(self):
        return [c.name for c in self.columns]

    # -- what subclasses define ----------------------------------------------------------
    def existing(self, ctx):
        """{key: pk} of the tenant's rows (a list of pks where the key is ambiguous)."""
        raise NotImplementedError

    def row_key(self, ctx, values):
        raise NotImplementedError

    def load(self, ctx, pk):
        return self.model._default_manager.get(pk=pk)

    def new(self, ctx):
        return self.model()

    def make_form(self, ctx, values, instance):
        raise NotImplementedError

    def save(self, ctx, form):
        return form.save()

    def label(self, values):
        return " / ".join(values.get(c, "") or "*" for c in self.key_columns)

    #: Columns read from related rows, and their value for a row not saved yet.
    unsaved = {}

    def values(self, instance):
        """{column: value} as the export reads them."""
        if instance.pk is None:
            return {
                c.name: self.unsaved[c.name] if c.name in self.unsaved else _unset(c, instance)
                for c in self.columns
            }
        return {c.name: c.get(instance) for c in self.columns}

    def after_values(self, form):
        return self.values(form.instance)

    def errors_of(self, form):
        """[(column, message)] of an invalid form."""
        return form_errors(form)

    def refusal(self, instance):
        """Why the delete page would refuse to delete ``instance`` (replace mode), or None;
        what the database protects is refused as well (ProtectedError)."""
        return None

    # -- shared ---------------------------------------------------------------------------
    def clean_cells(self, raw):
        values, errors = {}, []
        for name, text in raw.items():
            try:
                value = text_value(text, name, code=name in self.code_columns)
                if name in self.bool_columns:
                    value = "true" if bool_value(value, name) else "false"
            except RowErrors as exc:
                errors.extend(exc.errors)
                continue
            values[name] = value
        if errors:
            raise RowErrors(errors)
        return values

    def each_row(self, table, result, handle):
        """``handle(line, values)`` for each row of ``table``, its cells read (formulas,
        codes, booleans); a RowErrors from either becomes that row's errors."""
        for line, raw, extra in rows_as_dicts(table):
            try:
                if extra:
                    fail("", f"{len(extra)} cell(s) beyond the header's columns.")
                handle(line, self.clean_cells(raw))
            except RowErrors as exc:
                result.error_rows += 1
                for column, message in exc.errors:
                    result.error(line, column, message)

    def first_time(self, seen, key, line, label):
        """Note ``key`` as read on ``line``; a key read before is an error naming its line."""
        if key in seen:
            fail(
                self.key_columns[0],
                f"Line {seen[key]} already has {self.noun} {label}: each {self.noun} once per "
                "file.",
            )
        seen[key] = line

    def refuse_in_add_mode(self, ctx, label):
        """An existing row: an error when the mode creates only."""
        if ctx.mode == "add":
            fail(
                self.key_columns[0],
                f"{self.noun.capitalize()} {label} already exists (mode add creates only).",
            )

    def stage(self, ctx, table, result):
        existing = self.existing(ctx)
        present = set(table.header)
        seen = {}
        defaults = {}

        def one(line, values):
            key = self.row_key(ctx, values)
            label = self.label(values)
            self.first_time(seen, key, line, label)
            pk = existing.get(key)
            if isinstance(pk, list):
                fail(
                    self.key_columns[0],
                    f"{len(pk)} {self.plural} match {label}; edit them on their pages.",
                )
            if pk is not None:
                self.refuse_in_add_mode(ctx, label)
            instance = self.load(ctx, pk) if pk is not None else None
            before = self.values(instance) if instance is not None else {}
            if len(present) < len(self.columns):
                # An absent column keeps the value it has, or a new row's default.
                if not defaults:
                    defaults.update(self.values(self.new(ctx)))
                base = before if instance is not None else defaults
                for name in self.column_names:
                    if name not in present:
                        values[name] = plain(base.get(name))
            form = self.make_form(ctx, values, instance)
            if not form.is_valid():
                raise RowErrors(self.errors_of(form))
            changes = diff(self.column_names, before, self.after_values(form), present)
            action = "create" if instance is None else "update" if changes else "unchanged"
            if action != "unchanged" and not saved(lambda: self.save(ctx, form)):
                # Refused by the database: a concurrent write committed past the form's
                # checks. Validate again, as the pages do, so the error names it.
                revalidate_after_conflict(form, instance is None)
                raise RowErrors(self.errors_of(form))
            result.record(RowChange(line, action, label, changes))

        self.each_row(table, result, one)
        if ctx.mode == "replace" and result.ok:
            self.delete_absent(ctx, existing, seen, result)

    def delete_absent(self, ctx, existing, seen, result):
        for key, pk in existing.items():
            if key in seen:
                continue
            for one in pk if isinstance(pk, list) else [pk]:
                instance = self.load(ctx, one)
                name = str(instance)
                refusal = self.refusal(instance)
                if refusal:  # the delete page's own reason
                    result.error_rows += 1
                    result.error(None, "", f"Not deleted: {strip_tags(refusal)}")
                    continue
                try:
                    with transaction.atomic():
                        instance.delete()
                except ProtectedError as exc:
                    result.error_rows += 1
                    result.error(None, "", protected_message(exc, name))
                    continue
                result.record(RowChange(None, "delete", name))


def _unset(column, instance):
    """A column of a row not saved yet (a new row's default): None where it follows a
    reference the row does not have."""
    try:
        return column.get(instance)
    except ObjectDoesNotExist:
        return None


def _policy_names(ctx):
    """The tenant's translation sets and number lists, name → id (a trunk names them)."""
    found = ctx.cache.get("policy_names")
    if found is None:
        found = ctx.cache["policy_names"] = (
            dict(TranslationSet.objects.filter(tenant=ctx.tenant).values_list("name", "pk")),
            dict(NumberList.objects.filter(tenant=ctx.tenant).values_list("name", "pk")),
        )
    return found


def _lookup(mapping, name, column, noun):
    pk = mapping.get(_name_key(name))
    if pk is None:
        fail(column, f"{noun} “{name}” not found.")
    return pk


# --- customers ---------------------------------------------------------------------------

CustomerImportForm = modelform_factory(
    Customer, form=CustomerForm, fields=[*CustomerForm.Meta.fields, "status"]
)


class CustomerKind(Kind):
    key, noun, plural, model = "customers", "customer", "customers", Customer
    columns = customer_bulk.CUSTOMER
    key_columns = ("name",)
    bool_columns = frozenset({"credit_unlimited", "overdraft_allowed"})
    optional_columns = frozenset(c.name for c in columns) - {"name"}
    list_url = "customers:customer_list"

    def existing(self, ctx):
        rows = Customer.objects.filter(tenant=ctx.tenant).values_list(Lower("name"), "pk")
        return dict(rows)

    def row_key(self, ctx, values):
        if not values.get("name"):
            fail("name", "This field is required.")
        return _name_key(values["name"])

    def load(self, ctx, pk):
        return Customer.objects.get(pk=pk)

    def make_form(self, ctx, values, instance):
        return CustomerImportForm(data=values, instance=instance, tenant=ctx.tenant)

    def refusal(self, instance):
        return customer_delete_refusal(instance)


# --- trunks ------------------------------------------------------------------------------


def _customers(ctx):
    if "customers" not in ctx.cache:
        ctx.cache["customers"] = dict(
            Customer.objects.filter(tenant=ctx.tenant).values_list(Lower("name"), "pk")
        )
    return ctx.cache["customers"]


def _trunks(ctx):
    """{(customer name, trunk name): pk} and {trunk name: [pk, ...]} of the tenant."""
    if "trunks" not in ctx.cache:
        by_pair, by_name = {}, {}
        for pk, customer, name in Trunk.objects.filter(tenant=ctx.tenant).values_list(
            "pk", Lower("customer__name"), "name"
        ):
            by_pair[(customer, name)] = pk
            by_name.setdefault(name, []).append(pk)
        ctx.cache["trunks"] = by_pair, by_name
    return ctx.cache["trunks"]


def resolve_trunk(
    ctx, trunk_name, customer_name, *, trunk_column="trunk", customer_column="customer"
):
    """The pk of the tenant's trunk ``trunk_name`` (of ``customer_name`` when given); an
    error when it is missing, or when the name repeats and no customer says which."""
    by_pair, by_name = _trunks(ctx)
    if customer_name:
        pk = by_pair.get((_name_key(customer_name), trunk_name))
        if pk is None:
            raise RowErrors(
                [(trunk_column, f"Trunk “{trunk_name}” of customer “{customer_name}” not found.")]
            )
        return pk
    pks = by_name.get(trunk_name, [])
    if not pks:
        fail(trunk_column, f"Trunk “{trunk_name}” not found.")
    if len(pks) > 1:
        fail(
            customer_column,
            f"{len(pks)} customers have a trunk “{trunk_name}”: say whose in the customer column.",
        )
    return pks[0]


class TrunkKind(Kind):
    key, noun, plural, model = "trunks", "trunk", "trunks", Trunk
    columns = customer_bulk.TRUNK
    key_columns = ("customer", "name")
    code_columns = frozenset({"tech_prefix"})
    optional_columns = frozenset(c.name for c in columns) - {"customer", "name"}
    list_url = "customers:trunk_list"
    unsaved = {"networks": [], "number_lists": ""}

    def existing(self, ctx):
        return dict(_trunks(ctx)[0])

    def row_key(self, ctx, values):
        errors = [(c, "This field is required.") for c in self.key_columns if not values.get(c)]
        if errors:
            raise RowErrors(errors)
        return (_name_key(values["customer"]), values["name"])

    def load(self, ctx, pk):
        return (
            Trunk.objects.select_related("customer", "rate_plan", "ingress_translation")
            .prefetch_related("number_lists")
            .get(pk=pk)
        )

    def make_form(self, ctx, values, instance):
        plans = ctx.cache.get("plans")
        if plans is None:
            plans = ctx.cache["plans"] = {
                name: pk
                for pk, name in RatePlan.objects.filter(tenant=ctx.tenant).values_list("pk", "name")
            }
        errors = []
        data = {
            k: values.get(k, "")
            for k in ("name", "tech_prefix", "max_concurrent_calls", "max_cps", "status")
        }
        data["codecs"] = values.get("codecs", "").split()
        try:
            data["customer"] = _lookup(_customers(ctx), values["customer"], "customer", "Customer")
        except RowErrors as exc:
            errors.extend(exc.errors)
        plan = values.get("rate_plan", "")
        if plan:
            if plan not in plans:
                errors.append(("rate_plan", f"Rate plan “{plan}” not found."))
            data["rate_plan"] = plans.get(plan, "")
        sets, lists = _policy_names(ctx)
        tset = values.get("ingress_translation", "")
        if tset and tset not in sets:
            errors.append(("ingress_translation", f"Translation set “{tset}” not found."))
        data["ingress_translation"] = sets.get(tset, "")
        names = [n.strip() for n in values.get("number_lists", "").split(";") if n.strip()]
        errors.extend(
            ("number_lists", f"Number list “{n}” not found.") for n in names if n not in lists
        )
        data["number_lists"] = [lists[n] for n in names if n in lists]
        if errors:
            raise RowErrors(errors)
        networks = values.get("networks", "").split()
        old = {row.network: row.pk for row in instance.networks.all()} if instance else {}
        wanted = {net: {"network": net} for net in networks}
        data.update(formset_data("networks", old, wanted))
        return TrunkForm(data=data, instance=instance, tenant=ctx.tenant)

    def after_values(self, form):
        out = super().values(form.instance)
        out["networks"] = list(getattr(form.networks, "valid_networks", []))
        # the lists as the form will save them (the row's own are the old ones until then)
        out["number_lists"] = customer_bulk.list_names(form.cleaned_data["number_lists"])
        return out

    def errors_of(self, form):
        return with_formset_errors(form, form.networks, "networks")

    def refusal(self, instance):
        return trunk_delete_refusal(instance)


def with_formset_errors(form, formset, column):
    """The form's errors and its inline formset's, the latter under ``column``."""
    out = form_errors(form)
    for sub in formset.forms:
        for errors in sub.errors.values():
            out.extend((column, strip_tags(str(e))) for e in errors)
    out.extend((column, strip_tags(str(e))) for e in formset.non_form_errors())
    return out


def formset_data(prefix, old, wanted):
    """The POST data of an inline formset (a trunk's networks, a client's SIM slots) that
    makes its rows ``wanted`` ({key: {field: value}}) out of the saved rows ``old``
    ({key: pk}): a saved row not wanted is deleted, a wanted row not saved is added."""
    rows = [(pk, wanted.get(key, {}), key not in wanted) for key, pk in old.items()]
    rows += [(None, fields, False) for key, fields in wanted.items() if key not in old]
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(old)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, (pk, fields, delete) in enumerate(rows):
        data[f"{prefix}-{i}-id"] = str(pk or "")
        data.update({f"{prefix}-{i}-{name}": value for name, value in fields.items()})
        if delete:
            data[f"{prefix}-{i}-DELETE"] = "on"
    return data


# --- rates (bulk) ------------------------------------------------------------------------


class RateImportForm(RateForm):
    """The page's rate form, minus the database round trips per row: the plan is the
    import's own (checked once), the unique (code, valid_since) is the import's key, matched
    in memory against the plan's rates, and the check constraints restate the field
    validators the form runs. The database still holds all of them when the rows are
    written."""

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "rate_plan"}

    def validate_unique(self):
        pass

    def _post_clean(self):
        self.instance.validate_constraints = lambda exclude=None: None
        super()._post_clean()

    def rebind(self, data):
        """Validate another row with this form: a form per row spends a third of a
        100,000-row import deep-copying its fields. Validation only reads the fields; what
        a run leaves (errors, cleaned data, bound fields, the instance) is reset here."""
        self.data = data
        self.instance = Rate(rate_plan=self.instance.rate_plan)
        self._errors = None
        self._bound_fields_cache = {}
        return self


class RateKind(Kind):
    key, noun, plural, model = "rates", "rate", "rates", Rate
    columns = customer_bulk.RATE
    key_columns = ("code", "valid_since")
    code_columns = frozenset({"code"})
    optional_columns = frozenset(
        {"description", "connection_fee", "connection_sec", "billing_block_sec"}
    )
    list_url = "customers:rateplan_list"
    needs_rate_plan = True

    def label(self, values):
        return f"{values.get('code') or '*'} from {values.get('valid_since', '')}"

    def stage(self, ctx, table, result):
        plan = ctx.rate_plan
        names = self.column_names
        present = set(table.header)
        existing = {(r.code, r.valid_since): r for r in Rate.objects.filter(rate_plan=plan)}
        field_names = [n for n in names if n in present]
        defaults = self.values(Rate(rate_plan=plan))
        seen, creates, updates = {}, [], []
        form = RateImportForm(data={}, rate_plan=plan, tenant=ctx.tenant)

        def one(line, values):
            for name in names:
                if name not in present:
                    values[name] = plain(defaults[name])
            if not form.rebind(values).is_valid():
                raise RowErrors(form_errors(form))
            data = form.cleaned_data
            key = (data["code"], data["valid_since"])
            label = self.label(values)
            self.first_time(seen, key, line, label)
            instance = existing.get(key)
            if instance is None:
                rate = Rate(rate_plan=plan)
                for name in names:
                    setattr(rate, name, data.get(name, defaults[name]))
                rate.fill_defaults()
                creates.append(rate)
                changes = diff(names, {}, self.values(rate), present)
                result.record(RowChange(line, "create", label, changes))
                return
            self.refuse_in_add_mode(ctx, label)
            before = self.values(instance)
            for name in field_names:
                setattr(instance, name, data[name])
            instance.fill_defaults()
            changes = diff(names, before, self.values(instance), present)
            if changes:
                updates.append(instance)
            result.record(RowChange(line, "update" if changes else "unchanged", label, changes))

        self.each_row(table, result, one)
        if not result.ok:
            return
        absent = []
        if ctx.mode == "replace":
            absent = [r for key, r in existing.items() if key not in seen]
            for rate in absent:
                label = self.label({"code": rate.code, "valid_since": rate.valid_since.isoformat()})
                result.record(RowChange(None, "delete", label))
        user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
        try:
            with transaction.atomic():
                write_rates(ctx, user, creates, updates, absent, [*field_names, "description"])
        except IntegrityError as exc:
            result.file_failed(f"The database refused the rates: {str(exc).splitlines()[0]}")


#: Rows per statement when rates are written in bulk.
RATE_BATCH = 2000


def _batches(rows, size=RATE_BATCH):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def write_rates(ctx, user, creates, updates, deletes, fields):
    """Write an import's rates: statements of :data:`RATE_BATCH` rows and, when it applies,
    one history record per row (what a save or delete on the page writes), tagged with the
    import.
    On PostgreSQL updates are one ``UPDATE … FROM (VALUES …)`` per batch: Django's
    ``bulk_update`` builds a CASE per column and row, which costs ~1 minute and ~400 MB
    for 50,000 rows (``bench/README.md``, Import)."""
    table = Rate._meta.db_table
    history = Rate.history
    now = timezone.now()
    if deletes:
        with connection.cursor() as cur:
            for batch in _batches(deletes):
                marks = ", ".join(["%s"] * len(batch))
                cur.execute(f"DELETE FROM {table} WHERE id IN ({marks})", [r.pk for r in batch])
    if deletes and ctx.apply:
        history.model.objects.bulk_create(
            [
                history.model(
                    history_date=now,
                    history_user=user,
                    history_change_reason=ctx.reason,
                    history_type="-",
                    **{f.attname: getattr(r, f.attname) for f in history.model.tracked_fields},
                )
                for r in deletes
            ],
            batch_size=RATE_BATCH,
        )
    if creates and not ctx.apply:
        Rate.objects.bulk_create(creates, batch_size=RATE_BATCH)
    elif creates:
        bulk_create_with_history(
            creates,
            Rate,
            batch_size=RATE_BATCH,
            default_user=user,
            default_change_reason=ctx.reason,
            default_date=now,
        )
    if updates:
        fields = list(dict.fromkeys(fields))
        if connection.vendor == "postgresql":
            columns = [Rate._meta.get_field(name).column for name in fields]
            assign = ", ".join(f"{c} = v.{c}" for c in columns)
            with connection.cursor() as cur:
                for batch in _batches(updates):
                    row = "(" + ", ".join(["%s"] * (1 + len(fields))) + ")"
                    params = []
                    for rate in batch:
                        params.append(rate.pk)
                        params.extend(getattr(rate, name) for name in fields)
                    cur.execute(
                        f"UPDATE {table} AS r SET {assign} FROM (VALUES "
                        + ", ".join([row] * len(batch))
                        + f") AS v(id, {', '.join(columns)}) WHERE r.id = v.id",
                        params,
                    )
        else:
            Rate.objects.bulk_update(updates, fields, batch_size=500)
    if updates and ctx.apply:
        history.bulk_history_create(
            updates,
            batch_size=RATE_BATCH,
            update=True,
            default_user=user,
            default_change_reason=ctx.reason,
            default_date=now,
        )


# --- networks and clients ----------------------------------------------------------------


class KeyedKind(Kind):
    """A kind whose rows are found by one column that is unique in the tenant
    (``key_field``, the model field of that name)."""

    key_field = ""

    def existing(self, ctx):
        rows = self.model._default_manager.filter(tenant=ctx.tenant)
        return dict(rows.values_list(self.key_field, "pk"))

    def row_key(self, ctx, values):
        if not values.get(self.key_field):
            fail(self.key_field, "This field is required.")
        return values[self.key_field]


class NetworkKind(KeyedKind):
    key, noun, plural, model = "networks", "network", "networks", Network
    columns = routing_bulk.NETWORK
    key_columns = ("name",)
    key_field = "name"
    list_url = "routing:network_list"

    def make_form(self, ctx, values, instance):
        return NetworkForm(data=values, instance=instance, tenant=ctx.tenant)


class ClientKind(KeyedKind):
    key, noun, plural, model = "clients", "VMGateClient", "VMGateClients", VMGateClient
    columns = routing_bulk.CLIENT
    key_columns = ("node_id",)
    key_field = "node_id"
    optional_columns = frozenset(c.name for c in columns) - {"node_id"}
    list_url = "routing:vmgateclient_list"
    unsaved = {"slots": "[]"}

    def label(self, values):
        return f"{values.get('name', '')} ({values.get('node_id', '')})"

    def load(self, ctx, pk):
        return VMGateClient.objects.select_related("network").get(pk=pk)

    def make_form(self, ctx, values, instance):
        networks = ctx.cache.get("networks")
        if networks is None:
            networks = ctx.cache["networks"] = dict(
                Network.objects.filter(tenant=ctx.tenant).values_list("name", "pk")
            )
        data = {
            k: values.get(k, "") for k in ("name", "node_id", "status", "active_calls", "sip_uri")
        }
        network = values.get("network", "")
        if network:
            if network not in networks:
                fail("network", f"Network “{network}” not found.")
            data["network"] = networks[network]
        try:
            slots = json.loads(values.get("slots") or "[]")
            if not isinstance(slots, list) or not all(isinstance(s, dict) for s in slots):
                raise ValueError
        except ValueError:
            raise RowErrors(
                [
                    (
                        "slots",
                        'Write the SIM slots as a JSON list, e.g. [{"position":1,"enabled":true,"label":""}].',
                    )
                ]
            ) from None
        old = {str(slot.position): slot.pk for slot in instance.slots.all()} if instance else {}
        wanted = {}
        for slot in slots:
            row = {"position": str(slot.get("position", "")), "label": str(slot.get("label") or "")}
            if slot.get("enabled", True) not in (False, "false", 0):
                row["enabled"] = "on"  # a checkbox: absent is off
            wanted[row["position"]] = row
        data.update(formset_data("slots", old, wanted))
        return ClientImportForm(data=data, instance=instance, tenant=ctx.tenant)

    def after_values(self, form):
        out = super().values(form.instance)
        slots = sorted(
            (
                f.cleaned_data
                for f in form.slots.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ),
            key=lambda d: d.get("position") or 0,
        )
        out["slots"] = json.dumps(
            [
                {"position": d["position"], "enabled": d["enabled"], "label": d["label"]}
                for d in slots
            ],
            separators=(",", ":"),
        )
        return out

    def errors_of(self, form):
        return with_formset_errors(form, form.slots, "slots")

    def save(self, ctx, form):
        client = form.save()
        form.slots.instance = client
        form.slots.save()
        return client


class ClientImportForm(VMGateClientForm):
    """The client form with its SIM slots formset validated as part of it (the page does the
    same in two steps, ``ClientSlotsMixin``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = SimSlotFormSet(self.data, instance=self.instance, prefix="slots")

    def is_valid(self):
        valid = super().is_valid()
        return self.slots.is_valid() and valid


# --- routing rules -----------------------------------------------------------------------


class RuleKind(Kind):
    key, noun, plural, model = "rules", "routing rule", "routing rules", RoutingRule
    columns = routing_bulk.RULE
    key_columns = ("code", "trunk")
    code_columns = frozenset({"code"})
    bool_columns = frozenset({"is_active"})
    optional_columns = frozenset({"label", "assignment", "customer", "is_active", "trunk"})
    list_url = "routing:routingrule_list"

    def existing(self, ctx):
        out = {}
        for pk, code, trunk in RoutingRule.objects.filter(tenant=ctx.tenant).values_list(
            "pk", "code", "trunk_id"
        ):
            key = (code, trunk)
            if key in out:
                old = out[key]
                out[key] = [*old, pk] if isinstance(old, list) else [old, pk]
            else:
                out[key] = pk
        return out

    def row_key(self, ctx, values):
        code = values.get("code", "")
        if code == routing_bulk.CATCH_ALL_CODE:
            code = values["code"] = ""
        trunk = None
        if values.get("trunk"):
            trunk = resolve_trunk(ctx, values["trunk"], values.get("customer", ""))
        elif values.get("customer"):
            fail(
                "trunk",
                "A customer without a trunk: name the trunk, or leave both empty for a rule of all trunks.",
            )
        values["_trunk"] = trunk
        return (code, trunk)

    def label(self, values):
        code = values.get("code") or routing_bulk.CATCH_ALL_CODE
        if values.get("trunk"):
            return f"{code} (trunk {values.get('customer') or ''} / {values['trunk']})"
        return code

    def load(self, ctx, pk):
        return RoutingRule.objects.select_related("trunk__customer").get(pk=pk)

    def make_form(self, ctx, values, instance):
        data = {k: values.get(k, "") for k in ("code", "label", "assignment", "is_active")}
        data["trunk"] = values.get("_trunk") or ""
        return RoutingRuleForm(data=data, instance=instance, tenant=ctx.tenant)


# --- dialpeers ---------------------------------------------------------------------------


class DialpeerKind(Kind):
    key, noun, plural, model = "dialpeers", "dialpeer", "dialpeers", Dialpeer
    columns = DIALPEER
    key_columns = ("customer", "trunk", "rule")
    code_columns = frozenset({"rule"})
    bool_columns = frozenset({"is_active"})
    optional_columns = frozenset({"rule_id", "is_active"})
    list_url = "dialpeers:dialpeer_list"

    def existing(self, ctx):
        return {
            (c, t, r): pk
            for pk, c, t, r in Dialpeer.objects.filter(tenant=ctx.tenant).values_list(
                "pk", "customer_id", "trunk_id", "rule_id"
            )
        }

    def row_key(self, ctx, values):
        errors = [
            (c, "This field is required.")
            for c in ("name", "customer", "trunk")
            if not values.get(c)
        ]
        if errors:
            raise RowErrors(errors)
        customer = _lookup(_customers(ctx), values["customer"], "customer", "Customer")
        trunk = resolve_trunk(ctx, values["trunk"], values["customer"])
        rule = resolve_rule(ctx, values, trunk=trunk)
        values["_ids"] = (customer, trunk, rule)
        return (customer, trunk, rule)

    def label(self, values):
        return (
            f"{values.get('name', '')} ({values.get('customer', '')} / "
            f"{values.get('trunk', '')} → {values.get('rule') or '*'})"
        )

    def load(self, ctx, pk):
        return Dialpeer.objects.select_related("customer", "trunk", "rule").get(pk=pk)

    def values(self, instance):
        out = super().values(instance)
        out.pop("rule_id", None)  # the key, not a value to compare
        return out

    def make_form(self, ctx, values, instance):
        customer, trunk, rule = values["_ids"]
        data = {
            "name": values.get("name", ""),
            "customer": customer,
            "trunk": trunk,
            "rule": rule,
            "is_active": values.get("is_active", "true"),
        }
        form = DialpeerForm(data=data, instance=instance, tenant=ctx.tenant)
        if "is_active" not in form.fields:  # the page's create makes an active dialpeer
            form.fields["is_active"] = forms.BooleanField(required=False)
        return form


# --- routing targets ---------------------------------------------------------------------


def resolve_rule(ctx, values, *, trunk=None, scoped_to_row=False):
    """The pk of the rule a row names: ``rule_id`` when given (the code must agree), else the
    one rule with ``rule``'s code — among the rules usable on ``trunk`` (a dialpeer's) or,
    with ``scoped_to_row``, the rule of exactly the row's scope (a target's ``trunk`` and
    ``customer`` columns). More than one is an error asking for ``rule_id``."""
    code = values.get("rule", "")
    if code == routing_bulk.CATCH_ALL_CODE:
        code = ""
    shown = code or routing_bulk.CATCH_ALL_CODE
    rules = RoutingRule.objects.filter(tenant=ctx.tenant)
    if scoped_to_row:
        if values.get("trunk"):
            rules = rules.filter(
                trunk_id=resolve_trunk(ctx, values["trunk"], values.get("customer", ""))
            )
        else:
            rules = rules.filter(trunk__isnull=True)
        where = "with this scope"
    else:
        rules = rules.filter(Q(trunk__isnull=True) | Q(trunk_id=trunk))
        where = "usable on this trunk"
    rule_id = (values.get("rule_id") or "").strip()
    if rule_id:
        if not rule_id.isdigit():
            fail("rule_id", f"“{rule_id}” is not a rule id.")
        found = rules.filter(pk=int(rule_id)).values_list("pk", "code").first()
        if found is None:
            fail("rule_id", f"Rule #{rule_id} not found among the rules {where}.")
        if values.get("rule", "") != "" and found[1] != code:
            fail(
                "rule",
                f"Rule #{rule_id} has code {found[1] or routing_bulk.CATCH_ALL_CODE}, not {shown}.",
            )
        return found[0]
    pks = list(rules.filter(code=code).values_list("pk", flat=True)[:2])
    if not pks:
        fail("rule", f"No routing rule with code {shown} {where}.")
    if len(pks) > 1:
        fail(
            "rule",
            f"More than one rule with code {shown} is {where}: add a rule_id column to say which.",
        )
    return pks[0]


class TargetKind(Kind):
    key, noun, plural, model = "targets", "routing target", "routing targets", RoutingTarget
    columns = routing_bulk.TARGET
    key_columns = ("rule", "network", "client", "sim_slot")
    code_columns = frozenset({"rule"})
    bool_columns = frozenset({"is_active"})
    optional_columns = frozenset(c.name for c in columns) - {"rule"}
    list_url = "routing:routingrule_list"

    def existing(self, ctx):
        out = {}
        for row in RoutingTarget.objects.filter(rule__tenant=ctx.tenant).values_list(
            "pk", "rule_id", "network_id", "client_id", "sim_slot_id"
        ):
            key = row[1:]
            if key in out:
                old = out[key]
                out[key] = [*old, row[0]] if isinstance(old, list) else [old, row[0]]
            else:
                out[key] = row[0]
        return out

    def _refs(self, ctx):
        if "target_refs" not in ctx.cache:
            networks = dict(Network.objects.filter(tenant=ctx.tenant).values_list("name", "pk"))
            clients = dict(
                VMGateClient.objects.filter(tenant=ctx.tenant).values_list("node_id", "pk")
            )
            slots = {
                f"{node}/{position}": pk
                for pk, node, position in SimSlot.objects.filter(
                    client__tenant=ctx.tenant
                ).values_list("pk", "client__node_id", "position")
            }
            ctx.cache["target_refs"] = networks, clients, slots
        return ctx.cache["target_refs"]

    def row_key(self, ctx, values):
        rule = resolve_rule(ctx, values, scoped_to_row=True)
        networks, clients, slots = self._refs(ctx)
        chosen = [k for k in ("network", "client", "sim_slot") if values.get(k)]
        if len(chosen) != 1:
            fail(
                "",
                "Name exactly one target: a network, a client (node id) or a SIM slot (node id/position).",
            )
        kind = chosen[0]
        table, noun = {
            "network": (networks, "Network"),
            "client": (clients, "VMGateClient"),
            "sim_slot": (slots, "SIM slot"),
        }[kind]
        pk = table.get(values[kind])
        if pk is None:
            fail(kind, f"{noun} “{values[kind]}” not found.")
        key = [rule, None, None, None]
        key[1 + ("network", "client", "sim_slot").index(kind)] = pk
        values["_ref"] = (rule, kind, pk)
        return tuple(key)

    def label(self, values):
        target = values.get("network") or values.get("client") or values.get("sim_slot") or "?"
        scope = f" (trunk {values['trunk']})" if values.get("trunk") else ""
        return f"{values.get('rule') or routing_bulk.CATCH_ALL_CODE}{scope} → {target}"

    def load(self, ctx, pk):
        return RoutingTarget.objects.select_related(
            "rule__trunk__customer", "network", "client", "sim_slot__client"
        ).get(pk=pk)

    def make_form(self, ctx, values, instance):
        rule_pk, kind, pk = values["_ref"]
        rule = instance.rule if instance is not None else RoutingRule.objects.get(pk=rule_pk)
        data = {k: values.get(k, "") for k in ("priority", "weight", "is_active")}
        data["kind"] = kind
        data[kind] = pk
        return RoutingTargetForm(data=data, instance=instance, rule=rule, tenant=ctx.tenant)

    def values(self, instance):
        out = super().values(instance)
        out.pop("rule_id", None)  # part of the key
        return out


# --- routing policy (SPEC §9): translation rules, number-list entries, schedule windows --------
#
# One row per child (a rule, an entry, a window), its parent (set, list, schedule) named by
# its name in the first column and created when the tenant has none of that name. The
# parent's own settings on the row (a list's kind and applies_to, a schedule's time zone)
# make a new parent; for an existing one they must agree with it (changing what a whole list
# or schedule means is a decision for its page, not a side effect of an import of its rows).
# Rows are validated by the model's own ``full_clean()`` (the rules of routing.policy), keys
# are matched in memory and the rows written in bulk: a number list may hold 10,000+ entries.
# ``replace`` makes the file the whole content of each parent it names; parents it does not
# name, and the parents themselves, are left as they are.

WEEKDAY_HELP = "Write the weekdays as numbers 1–7 (Monday = 1) separated by spaces, e.g. 1 2 3 4 5."
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?\Z")


def _model_errors(exc, columns):
    """A model's ValidationError as [(column, message)]; fields that are no column of the
    file (and ``__all__``) go under ``columns[None]`` ("" = the row)."""
    out = []
    for name, messages in exc.message_dict.items():
        column = columns.get(name, columns.get(None, ""))
        out.extend((column, m) for m in messages)
    return out


class PolicyKind(Kind):
    """A routing-policy child kind; subclasses name the parent and read a row."""

    parent_model = None
    parent_column = ""
    parent_noun = ""
    #: Parent fields a row may set (column = field name): they make a new parent and must
    #: agree with an existing one.
    parent_fields = ()
    child_fields = ()  # fields an update may change
    fk = ""  # the child's foreign key to its parent

    def values(self, instance):
        return {c.name: c.get(instance) for c in self.columns}

    # -- hooks ---------------------------------------------------------------------------
    def build(self, ctx, values, parent):
        """The unsaved child of ``parent`` a row describes (RowErrors for unreadable cells)."""
        raise NotImplementedError

    def key_of(self, child):
        raise NotImplementedError

    def label_of(self, parent_name, child):
        raise NotImplementedError

    # -- parents -------------------------------------------------------------------------
    def parent_for(self, ctx, values, parents):
        """The parent the row names, created on first mention when missing."""
        name = values.get(self.parent_column, "")
        if not name:
            fail(self.parent_column, "This field is required.")
        wanted = {f: values[f] for f in self.parent_fields if values.get(f, "") != ""}
        parent = parents.get(name)
        if parent is None:
            parent = self.parent_model(tenant=ctx.tenant, name=name, **wanted)
            try:
                parent.full_clean()
            except ValidationError as exc:
                columns = {f: f for f in self.parent_fields}
                columns.update({"name": self.parent_column, None: self.parent_column})
                raise RowErrors(_model_errors(exc, columns)) from None
            parent.save()
            parents[name] = parent
            return parent
        clashes = [
            (
                f,
                f"{self.parent_noun.capitalize()} “{name}” has {f} {getattr(parent, f)}, not "
                f"{v}: change it on its page, or leave the column empty.",
            )
            for f, v in wanted.items()
            if getattr(parent, f) != v
        ]
        if clashes:
            raise RowErrors(clashes)
        return parent

    # -- staging -------------------------------------------------------------------------
    def stage(self, ctx, table, result):
        parents = {p.name: p for p in self.parent_model.objects.filter(tenant=ctx.tenant)}
        children = {}  # parent pk → {key: child}
        seen = {}
        present = set(table.header)
        creates, updates, named = [], [], set()

        def saved_children(parent):
            if parent.pk not in children:
                rows = self.model._default_manager.filter(**{self.fk: parent}).order_by("pk")
                children[parent.pk] = {self.key_of(c): c for c in rows}
            return children[parent.pk]

        def one(line, values):
            parent = self.parent_for(ctx, values, parents)
            named.add(parent.pk)
            child = self.build(ctx, values, parent)
            try:
                # The parent is the import's own (no query per row for the foreign key);
                # the unique key is matched in memory below.
                child.full_clean(
                    exclude=[self.fk], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                columns = {c.name: c.name for c in self.columns}
                columns[self.fk] = self.parent_column
                raise RowErrors(_model_errors(exc, columns)) from None
            key = self.key_of(child)
            label = self.label_of(parent.name, child)
            self.first_time(seen, (parent.pk, key), line, label)
            existing = saved_children(parent).get(key)
            if existing is None:
                creates.append(child)
                changes = diff(self.column_names, {}, self.values(child), present)
                result.record(RowChange(line, "create", label, changes))
                return
            self.refuse_in_add_mode(ctx, label)
            before = self.values(existing)
            for name in self.child_fields:
                if name in present:
                    setattr(existing, name, getattr(child, name))
            changes = diff(self.column_names, before, self.values(existing), present)
            if changes:
                updates.append(existing)
            result.record(RowChange(line, "update" if changes else "unchanged", label, changes))

        self.each_row(table, result, one)
        if not result.ok:
            return
        deletes = []
        if ctx.mode == "replace":
            for parent in parents.values():
                if parent.pk not in named:
                    continue
                for key, child in saved_children(parent).items():
                    if (parent.pk, key) not in seen:
                        deletes.append(child)
                        label = self.label_of(parent.name, child)
                        result.record(RowChange(None, "delete", label))
        try:
            with transaction.atomic():
                write_rows(ctx, self.model, creates, updates, deletes, self.child_fields)
        except IntegrityError as exc:
            result.file_failed(
                f"The database refused the {self.plural}: {str(exc).splitlines()[0]}"
            )


def write_rows(ctx, model, creates, updates, deletes, fields):
    """Write an import's rows of ``model`` in bulk (batches of :data:`RATE_BATCH`), with
    one history record per row when it applies, tagged with the import."""
    user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
    now = timezone.now()
    history = model.history
    if deletes:
        if ctx.apply:
            history.model.objects.bulk_create(
                [
                    history.model(
                        history_date=now,
                        history_user=user,
                        history_change_reason=ctx.reason,
                        history_type="-",
                        **{f.attname: getattr(r, f.attname) for f in history.model.tracked_fields},
                    )
                    for r in deletes
                ],
                batch_size=RATE_BATCH,
            )
        with connection.cursor() as cur:
            for batch in _batches(deletes):
                marks = ", ".join(["%s"] * len(batch))
                cur.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE id IN ({marks})",
                    [r.pk for r in batch],
                )
    if creates and ctx.apply:
        bulk_create_with_history(
            creates,
            model,
            batch_size=RATE_BATCH,
            default_user=user,
            default_change_reason=ctx.reason,
            default_date=now,
        )
    elif creates:
        model._default_manager.bulk_create(creates, batch_size=RATE_BATCH)
    if updates:
        model._default_manager.bulk_update(updates, list(fields), batch_size=500)
        if ctx.apply:
            history.bulk_history_create(
                updates,
                batch_size=RATE_BATCH,
                update=True,
                default_user=user,
                default_change_reason=ctx.reason,
                default_date=now,
            )


def _position(raw):
    text = (raw or "").strip()
    if not text:
        fail("position", "This field is required.")
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        fail("position", f"“{text[:20]}”: enter a whole number ≥ 1.")
    return int(text)


class TranslationRuleKind(PolicyKind):
    key, noun, plural, model = (
        "translation_rules",
        "translation rule",
        "translation rules",
        TranslationRule,
    )
    columns = routing_bulk.TRANSLATION_RULE  # what the translation sets list exports
    key_columns = ("translation_set", "position")
    bool_columns = frozenset({"stop"})
    optional_columns = frozenset({"replace", "stop"})
    list_url = "routing:translationset_list"
    parent_model, parent_column, parent_noun = TranslationSet, "translation_set", "translation set"
    child_fields = ("match", "replace", "stop")
    fk = "translation_set"

    def build(self, ctx, values, parent):
        return TranslationRule(
            translation_set=parent,
            position=_position(values.get("position")),
            match=values.get("match", ""),
            replace=values.get("replace", ""),
            stop=values.get("stop", "true") != "false",
        )

    def key_of(self, child):
        return child.position

    def label_of(self, parent_name, child):
        return f"{parent_name} #{child.position}"


class NumberListEntryKind(PolicyKind):
    key, noun, plural, model = (
        "number_list_entries",
        "number list entry",
        "number list entries",
        NumberListEntry,
    )
    columns = routing_bulk.NUMBER_LIST_ENTRY  # what a number list's page exports
    key_columns = ("number_list", "value", "match")
    code_columns = frozenset({"value"})
    optional_columns = frozenset({"kind", "applies_to", "match", "note"})
    list_url = "routing:numberlist_list"
    parent_model, parent_column, parent_noun = NumberList, "number_list", "number list"
    parent_fields = ("kind", "applies_to")
    child_fields = ("note",)
    fk = "number_list"

    def build(self, ctx, values, parent):
        return NumberListEntry(
            number_list=parent,
            value=values.get("value", ""),
            match=values.get("match") or NumberListEntry.PREFIX,
            note=values.get("note", ""),
        )

    def key_of(self, child):
        return (child.value, child.match)

    def label_of(self, parent_name, child):
        return f"{parent_name}: {child.value} ({child.match})"


def _weekdays(raw):
    parts = (raw or "").replace(",", " ").split()
    if not parts:
        fail("weekdays", "Choose at least one weekday. " + WEEKDAY_HELP)
    if not all(p.isascii() and p.isdigit() and len(p) == 1 for p in parts):
        fail("weekdays", f"“{raw[:40]}”: {WEEKDAY_HELP}")
    # routing.policy's own message (the model field's validator reports it as "Value must
    # be valid JSON.": JSONField's message for the code "invalid").
    try:
        return policy.check_weekdays([int(p) for p in parts])
    except policy.PolicyError as exc:
        fail("weekdays", str(exc))


def _clock(raw, column):
    text = (raw or "").strip()
    m = _CLOCK.match(text)
    if not m:
        fail(column, f"“{text[:20]}”: enter a time as HH:MM (24-hour), e.g. 09:00 or 17:30.")
    return time(int(m[1]), int(m[2]), int(m[3] or 0))


class ScheduleWindowKind(PolicyKind):
    key, noun, plural, model = (
        "schedule_windows",
        "schedule window",
        "schedule windows",
        ScheduleWindow,
    )
    columns = routing_bulk.SCHEDULE_WINDOW  # what the schedules list exports
    key_columns = ("schedule", "weekdays", "start", "end")
    optional_columns = frozenset({"timezone"})
    list_url = "routing:schedule_list"
    parent_model, parent_column, parent_noun = Schedule, "schedule", "schedule"
    parent_fields = ("timezone",)
    child_fields = ()  # a window is all key: a changed window is a new one (replace drops the old)
    fk = "schedule"

    def build(self, ctx, values, parent):
        errors = []
        window = ScheduleWindow(schedule=parent)
        for column, read in (
            ("weekdays", lambda: _weekdays(values.get("weekdays"))),
            ("start", lambda: _clock(values.get("start"), "start")),
            ("end", lambda: _clock(values.get("end"), "end")),
        ):
            try:
                setattr(window, column, read())
            except RowErrors as exc:
                errors.extend(exc.errors)
        if errors:
            raise RowErrors(errors)
        return window

    def key_of(self, child):
        days = child.weekdays if isinstance(child.weekdays, list) else []
        return (tuple(sorted(days)), child.start, child.end)

    def label_of(self, parent_name, child):
        return f"{parent_name}: {child}"


KINDS = {
    k.key: k
    for k in (
        CustomerKind(),
        TrunkKind(),
        RateKind(),
        NetworkKind(),
        ClientKind(),
        RuleKind(),
        TargetKind(),
        DialpeerKind(),
        TranslationRuleKind(),
        NumberListEntryKind(),
        ScheduleWindowKind(),
    )
}
