"""The tenant-wide Change log (SPEC §6): who changed what and when, across every kind of
object, newest first, from the same django-simple-history records as the History tabs.

Each kind's records are read with one ordered, limited query (the tenant's rows: by
``tenant_id`` for tenant-owned models, through the parent's history for children — a
trunk's authorized IPs, a plan's rates, a client's SIM slots, a rule's targets — so rows of
deleted parents stay visible), merged, and cut at one page. Paging is by position ("older
than this record"), not by page number, so a late page costs what the first one does. What
changed is diffed against each record's predecessor (fetched in one query per kind), with the
History tab's own code (:mod:`vmgate.history`). The query count is fixed by the number of
kinds, whatever the size of the log.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Subquery
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from customers.models import BalanceEntry, Customer, Rate, RatePlan, Trunk, TrunkNetwork
from dialpeers.models import Dialpeer
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingCheck,
    RoutingRule,
    RoutingTarget,
    Schedule,
    ScheduleWindow,
    SimSlot,
    TranslationRule,
    TranslationSet,
    VMGateClient,
    rule_display,
)
from vmgate.history import (
    ACTIONS,
    collect_fk_ids,
    deleted_names,
    live_names,
    record_changes,
    tracked_fields,
    who,
)
from vmgate.imports import IMPORT_REASON
from vmgate.models import ImportRun
from vmgate.tenancy import tenant_or_404

PAGE_SIZE = 50


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    model: type
    describe: object  # (record, live names) → text
    parent: str = ""  # FK attname to the tenant-owned parent ("" = owned itself)
    parent_model: type | None = None
    page_of: object = None  # record → (model, pk, url name) of the page to link, or None

    def history(self, tenant):
        records = self.model.history.all()
        if not self.parent:
            return records.filter(tenant_id=tenant.pk)
        # Through the parent's history, so children of a deleted parent stay in the log; an
        # EXISTS probe per row (index on id) instead of an IN over every parent version.
        parent = self.parent_model.history.filter(id=OuterRef(self.parent), tenant_id=tenant.pk)
        return records.filter(Exists(parent))


def _own(url_name, model):
    return lambda r: (model, r.id, url_name)


def _parent(url_name, model, attname):
    return lambda r: (model, getattr(r, attname), url_name)


def _named(model, attname, fallback="#"):
    """record, names → the live name of the row ``attname`` points at (or "#id")."""
    return lambda r, names: names.get(
        (model, getattr(r, attname)), f"{fallback}{getattr(r, attname)}"
    )


def _target(r, names):
    for model, attname in (
        (VMGateClient, "client_id"),
        (Network, "network_id"),
        (SimSlot, "sim_slot_id"),
    ):
        if getattr(r, attname):
            return f"→ {_named(model, attname)(r, names)}"
    return f"target #{r.id}"


KINDS = [
    Kind("customer", "Customer", Customer, lambda r, n: r.name,
         page_of=_own("customers:customer_detail", Customer)),
    Kind("balanceentry", "Balance entry", BalanceEntry,
         lambda r, n: f"{r.summary} for {_named(Customer, 'customer_id')(r, n)}",
         "customer_id", Customer, _parent("customers:customer_detail", Customer, "customer_id")),
    Kind("trunk", "SIP trunk", Trunk,
         lambda r, n: f"{_named(Customer, 'customer_id')(r, n)} / {r.name}",
         page_of=_own("customers:trunk_detail", Trunk)),
    Kind("trunknetwork", "Authorized IP", TrunkNetwork,
         lambda r, n: f"{r.network} of {_named(Trunk, 'trunk_id', 'trunk #')(r, n)}",
         "trunk_id", Trunk, _parent("customers:trunk_detail", Trunk, "trunk_id")),
    Kind("rateplan", "Rate plan", RatePlan, lambda r, n: r.name,
         page_of=_own("customers:rateplan_detail", RatePlan)),
    Kind("rate", "Destination", Rate,
         lambda r, n: f"{r.code or '(any)'} from {r.valid_since:%Y-%m-%d %H:%M}"
         f" in {_named(RatePlan, 'rate_plan_id', 'plan #')(r, n)}",
         "rate_plan_id", RatePlan, _own("customers:rate_detail", Rate)),
    Kind("network", "Network", Network, lambda r, n: r.name,
         page_of=_own("routing:network_detail", Network)),
    Kind("vmgateclient", "VMGateClient", VMGateClient, lambda r, n: r.name,
         page_of=_own("routing:vmgateclient_detail", VMGateClient)),
    Kind("simslot", "SIM slot", SimSlot,
         lambda r, n: f"{_named(VMGateClient, 'client_id', 'client #')(r, n)} slot {r.position}",
         "client_id", VMGateClient,
         _parent("routing:vmgateclient_detail", VMGateClient, "client_id")),
    Kind("routingrule", "Routing rule", RoutingRule,
         lambda r, n: rule_display(r.code, r.label, r.trunk_id and _named(Trunk, "trunk_id")(r, n)),
         page_of=_own("routing:routingrule_detail", RoutingRule)),
    Kind("routingtarget", "Routing target", RoutingTarget,
         lambda r, n: f"{_named(RoutingRule, 'rule_id', 'rule #')(r, n)} {_target(r, n)}",
         "rule_id", RoutingRule, _parent("routing:routingrule_targets", RoutingRule, "rule_id")),
    Kind("routingcheck", "Routing check", RoutingCheck, lambda r, n: r.name),
    Kind("translationset", "Translation set", TranslationSet, lambda r, n: r.name,
         page_of=_own("routing:translationset_detail", TranslationSet)),
    Kind("translationrule", "Translation rule", TranslationRule,
         lambda r, n: f"{r.position}. {r.match} → {r.replace} in "
         f"{_named(TranslationSet, 'translation_set_id', 'set #')(r, n)}",
         "translation_set_id", TranslationSet,
         _parent("routing:translationset_detail", TranslationSet, "translation_set_id")),
    Kind("numberlist", "Number list", NumberList, lambda r, n: r.name,
         page_of=_own("routing:numberlist_detail", NumberList)),
    Kind("numberlistentry", "Number list entry", NumberListEntry,
         lambda r, n: f"{r.value} ({r.match}) in "
         f"{_named(NumberList, 'number_list_id', 'list #')(r, n)}",
         "number_list_id", NumberList,
         _parent("routing:numberlist_detail", NumberList, "number_list_id")),
    Kind("schedule", "Schedule", Schedule, lambda r, n: r.name,
         page_of=_own("routing:schedule_detail", Schedule)),
    Kind("schedulewindow", "Schedule window", ScheduleWindow,
         lambda r, n: f"{r.start:%H:%M}–{r.end:%H:%M} in "
         f"{_named(Schedule, 'schedule_id', 'schedule #')(r, n)}",
         "schedule_id", Schedule, _parent("routing:schedule_detail", Schedule, "schedule_id")),
    Kind("dialpeer", "Dialpeer", Dialpeer, lambda r, n: r.name,
         page_of=_own("dialpeers:dialpeer_detail", Dialpeer)),
    Kind("import", "Import", ImportRun, lambda r, n: r.summary,
         page_of=_own("vmgate:importrun_detail", ImportRun)),
]  # fmt: skip
KIND_INDEX = {kind.key: index for index, kind in enumerate(KINDS)}
HISTORY_TYPES = {action: code for code, action in ACTIONS.items()}


class ChangeLogFilter(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "All kinds")] + [(k.key, k.label) for k in KINDS]
    )
    action = forms.ChoiceField(
        required=False,
        choices=[("", "Any action")] + [(a, a.capitalize()) for a in HISTORY_TYPES],
    )
    who = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Anyone",
        to_field_name="username",
    )
    before = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["who"].queryset = (
            get_user_model().objects.filter(membership__tenant=tenant).order_by("username")
        )

    def clean_before(self):
        """``<ISO time>~<kind>~<history id>``: the last record of the previous page."""
        value = self.cleaned_data["before"]
        if not value:
            return None
        try:
            when, kind, history_id = value.split("~")
            when = datetime.fromisoformat(when)
            position = (when.astimezone(UTC), KIND_INDEX[kind], int(history_id))
            if when.tzinfo is None or not 0 < position[2] < 2**63:
                raise ValueError(value)
        except (ValueError, KeyError, OverflowError) as exc:
            raise forms.ValidationError("Not a position in the change log.") from exc
        return position


def _older_than(index, position):
    """Records after ``position`` in the log's order (time, kind, id — all descending)."""
    when, kind_index, history_id = position
    if index < kind_index:
        return Q(history_date__lte=when)
    if index > kind_index:
        return Q(history_date__lt=when)
    # history_date <= when first: a bound the index range can use (an OR alone is not).
    return Q(history_date__lte=when) & (
        Q(history_date__lt=when) | Q(history_date=when, history_id__lt=history_id)
    )


def _records(kind, index, tenant, filters):
    # The rows an import wrote are its one entry ("Imported rates.csv: …"), not one each;
    # their own History tabs keep them.
    records = kind.history(tenant).exclude(history_change_reason__startswith=IMPORT_REASON)
    if filters.get("action"):
        records = records.filter(history_type=HISTORY_TYPES[filters["action"]])
    if filters.get("who"):
        records = records.filter(history_user=filters["who"])
    if filters.get("before"):
        records = records.filter(_older_than(index, filters["before"]))
    predecessor = (
        kind.model.history.filter(id=OuterRef("id"), history_date__lte=OuterRef("history_date"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return list(
        records.select_related("history_user")
        .annotate(previous_id=Subquery(predecessor))
        .order_by("-history_date", "-history_id")[: PAGE_SIZE + 1]
    )


def change_log_page(tenant, filters):
    """(rows, next position or None): one page of the tenant's change log."""
    kinds = [(i, k) for i, k in enumerate(KINDS) if filters.get("kind") in (None, "", k.key)]
    found = []
    for index, kind in kinds:
        found.extend(
            (r.history_date, index, r.history_id, r) for r in _records(kind, index, tenant, filters)
        )
    found.sort(key=lambda item: item[:3], reverse=True)
    page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE

    wanted, by_kind = {}, {}
    for _, index, _, record in page:
        by_kind.setdefault(index, []).append(record)
    previous, fields = {}, {}
    for index, records in by_kind.items():
        kind = KINDS[index]
        fields[index] = tracked_fields(kind.model.history.model)
        ids = [r.previous_id for r in records if r.history_type == "~" and r.previous_id]
        earlier = list(kind.model.history.filter(history_id__in=ids)) if ids else []
        previous.update({(index, r.history_id): r for r in earlier})
        collect_fk_ids(fields[index], records + earlier, wanted)
        for record in records:
            if kind.page_of is not None:
                model, pk, _ = kind.page_of(record)
                wanted.setdefault(model, set()).add(pk)
    live = live_names(wanted)
    names = {**deleted_names(wanted, live), **live}

    rows = []
    for when, index, _, record in page:
        kind = KINDS[index]
        link = None
        if kind.page_of is not None:
            model, pk, url_name = kind.page_of(record)
            if (model, pk) in live:  # still there (a deleted object has no page)
                link = reverse(url_name, args=[pk])
        before = previous.get((index, record.previous_id))
        rows.append(
            {
                "when": when,
                "who": who(record),
                "action": ACTIONS.get(record.history_type, "changed"),
                "kind": kind.label,
                "object": kind.describe(record, names),
                "link": link,
                "changes": record_changes(record, before, fields[index], names, tenant.currency),
            }
        )
    next_position = None
    if more and page:
        when, index, history_id, _ = page[-1]
        next_position = f"{when.isoformat()}~{KINDS[index].key}~{history_id}"
    return rows, next_position


@require_GET
def changelog(request):
    tenant = tenant_or_404(request)
    form = ChangeLogFilter(request.GET or None, tenant=tenant)
    rows, next_position = [], None
    if not form.is_bound or form.is_valid():  # a bad filter shows its error and no rows
        rows, next_position = change_log_page(tenant, form.cleaned_data if form.is_bound else {})
    older = None
    if next_position:
        query = request.GET.copy()
        query["before"] = next_position
        older = "?" + query.urlencode()
    newest = None
    if request.GET.get("before"):
        query = request.GET.copy()
        query.pop("before")
        newest = "?" + query.urlencode()
    context = {"form": form, "rows": rows, "older": older, "newest": newest}
    return render(request, "vmgate/changelog.html", context)
