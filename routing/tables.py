"""List tables. Every cell reads select_related or annotated data: the per-row figures
(counts, traffic state) are computed for the shown page only, by the list view's page rows
(routing/queries.py, vmgate/paging.py)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from routing.dialplan import CATCH_ALL
from routing.models import (
    Network,
    NumberList,
    NumberListEntry,
    RoutingRule,
    Schedule,
    TranslationSet,
    VMGateClient,
)
from routing.queries import targets_summary
from vmgate.tables import ActionsColumn, BadgeColumn, PagedTable, RowAction

CLIENT_STATUS_COLORS = {
    VMGateClient.READY: "success",
    VMGateClient.NO_DONGLE: "warning",
    VMGateClient.OFF: "secondary",
}


def plural(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


class NetworkTable(PagedTable):
    name = tables.Column(linkify=True)
    n_clients = tables.Column(
        verbose_name="Clients",
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )
    n_ready = tables.Column(
        verbose_name="Ready clients",
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )
    actions = ActionsColumn()

    class Meta:
        model = Network
        fields = ["name", "n_clients", "n_ready"]
        order_by = ["name"]

    def get_row_actions(self, record):
        in_use = None
        if record.n_clients or record.n_targets:
            in_use = (
                f"Used by {plural(record.n_clients, 'client')} and "
                f"{plural(record.n_targets, 'routing target')}."
            )
        return [
            RowAction("Edit", reverse("routing:network_edit", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:network_delete", args=[record.pk]),
                disabled=in_use,
                danger=True,
            ),
        ]


class VMGateClientTable(PagedTable):
    name = tables.Column(linkify=True, verbose_name="Device name")
    node_id = tables.Column(attrs={"td": {"class": "font-monospace"}})
    # Accessors read the FK id only: the names come from the page rows' annotations.
    network = tables.Column(
        accessor="network_id", verbose_name="Network", order_by=("network__name", "id")
    )
    status = BadgeColumn(colors=CLIENT_STATUS_COLORS)
    slots = tables.Column(verbose_name="SIM slots", empty_values=(), orderable=False)
    active_calls = tables.Column(attrs={"td": {"class": "text-end"}})
    actions = ActionsColumn()

    class Meta:
        model = VMGateClient
        fields = ["name", "node_id", "network", "status", "slots", "active_calls"]
        order_by = ["name"]

    def render_network(self, record):
        url = reverse("routing:network_detail", args=[record.network_id])
        return format_html('<a href="{}">{}</a>', url, record.network_name)

    def render_slots(self, record):
        return f"{record.n_slots_enabled}/{record.n_slots} enabled"

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("routing:vmgateclient_edit", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:vmgateclient_delete", args=[record.pk]),
                disabled=(
                    f"Used by {plural(record.n_targets, 'routing target')}."
                    if record.n_targets
                    else None
                ),
                danger=True,
            ),
        ]


class RoutingRuleTable(PagedTable):
    code = tables.Column(
        linkify=True, attrs={"td": {"class": "code-cell"}}, order_by=("code", "id")
    )
    assignment = tables.Column(verbose_name="Assignment")
    trunk = tables.Column(
        accessor="trunk_id",
        verbose_name="Trunk scope",
        empty_values=(),
        order_by=("trunk__customer__name", "trunk__name", "id"),
    )
    label = tables.Column()
    targets = tables.Column(verbose_name="Targets", empty_values=(), orderable=False)
    is_active = tables.Column(verbose_name="Status", empty_values=())
    actions = ActionsColumn()

    class Meta:
        model = RoutingRule
        fields = ["code", "assignment", "trunk", "label", "targets", "is_active"]
        order_by = ["code"]
        row_attrs = {"data-pk": lambda record: record.pk}

    def render_code(self, record):
        return record.code or CATCH_ALL

    def render_trunk(self, record):
        if not record.trunk_id:
            return "All trunks"
        return record.trunk_label

    def render_targets(self, record):
        summary = targets_summary(record.n_networks, record.n_clients, record.n_slots)
        url = reverse("routing:routingrule_targets", args=[record.pk])
        extra = f" ({record.n_inactive} inactive)" if record.n_inactive else ""
        return format_html('<a href="{}">{}</a>{}', url, summary, extra)

    def render_is_active(self, record):
        if not record.is_active:
            return mark_safe('<span class="badge text-bg-secondary">Inactive</span>')
        if not record.usable:
            return mark_safe(
                '<span class="badge text-bg-success">Active</span> '
                '<span class="badge text-bg-warning" data-testid="no-traffic" '
                'title="No active target reaches a ready VMGateClient">'
                "⚠ carries no traffic</span>"
            )
        return mark_safe('<span class="badge text-bg-success">Active</span>')

    def get_row_actions(self, record):
        refusal = None
        if record.n_dialpeers:
            refusal = f"Linked by {plural(record.n_dialpeers, 'dialpeer')}."
        return [
            RowAction("Edit", reverse("routing:routingrule_edit", args=[record.pk])),
            RowAction("Targets", reverse("routing:routingrule_targets", args=[record.pk])),
            RowAction(
                "Remove rule",
                reverse("routing:routingrule_delete", args=[record.pk]),
                disabled=refusal,
                danger=True,
            ),
        ]


# Routing policy (SPEC §9) ----------------------------------------------------------------


#: A count: right-aligned, its header too.
NUMBER_CELL = {"td": {"class": "text-end"}, "th": {"class": "text-end"}}


def _in_use(*counts):
    """ "Used by 2 trunks and 1 network." for the parts that are not zero, or None."""
    parts = [plural(n, one) for n, one in counts if n]
    return f"Used by {' and '.join(parts)}." if parts else None


class TranslationSetTable(PagedTable):
    name = tables.Column(linkify=True)
    n_rules = tables.Column(
        verbose_name="Rules", empty_values=(), orderable=False, attrs=NUMBER_CELL
    )
    used_by = tables.Column(verbose_name="Used by", empty_values=(), orderable=False)
    actions = ActionsColumn()

    class Meta:
        model = TranslationSet
        fields = ["name", "n_rules", "used_by"]
        order_by = ["name"]
        row_attrs = {"data-pk": lambda record: record.pk}

    def render_used_by(self, record):
        parts = []
        if record.n_trunks:
            parts.append(plural(record.n_trunks, "trunk") + " (ingress)")
        if record.n_networks:
            parts.append(plural(record.n_networks, "network") + " (egress)")
        return ", ".join(parts) or "—"

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("routing:translationset_edit", args=[record.pk])),
            RowAction("Add rule", reverse("routing:translationrule_add", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:translationset_delete", args=[record.pk]),
                disabled=_in_use((record.n_trunks, "trunk"), (record.n_networks, "network")),
                danger=True,
            ),
        ]


class NumberListTable(PagedTable):
    name = tables.Column(linkify=True)
    kind = BadgeColumn(colors={NumberList.DENY: "danger", NumberList.ALLOW: "success"})
    applies_to = tables.Column(verbose_name="Applies to")
    n_entries = tables.Column(
        verbose_name="Entries",
        empty_values=(),
        orderable=False,
        attrs=NUMBER_CELL,
    )
    n_trunks = tables.Column(
        verbose_name="Trunks", empty_values=(), orderable=False, attrs=NUMBER_CELL
    )
    actions = ActionsColumn()

    class Meta:
        model = NumberList
        fields = ["name", "kind", "applies_to", "n_entries", "n_trunks"]
        order_by = ["name"]
        row_attrs = {"data-pk": lambda record: record.pk}

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("routing:numberlist_edit", args=[record.pk])),
            RowAction("Add entry", reverse("routing:numberlistentry_add", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:numberlist_delete", args=[record.pk]),
                disabled=_in_use((record.n_trunks, "trunk")),
                danger=True,
            ),
        ]


class NumberListEntryTable(PagedTable):
    """The entries of one list (its page): tens of thousands, so paged and sorted by the
    database; every cell is the row's own."""

    value = tables.Column(attrs={"td": {"class": "font-monospace"}}, order_by=("value", "id"))
    match = tables.Column()
    note = tables.Column()
    actions = ActionsColumn()

    class Meta:
        model = NumberListEntry
        fields = ["value", "match", "note"]
        order_by = ["value"]
        row_attrs = {"data-pk": lambda record: record.pk}

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("routing:numberlistentry_edit", args=[record.pk])),
            RowAction(
                "Delete", reverse("routing:numberlistentry_delete", args=[record.pk]), danger=True
            ),
        ]


class ScheduleTable(PagedTable):
    name = tables.Column(linkify=True)
    timezone = tables.Column(verbose_name="Time zone")
    n_windows = tables.Column(
        verbose_name="Windows",
        empty_values=(),
        orderable=False,
        attrs=NUMBER_CELL,
    )
    used_by = tables.Column(verbose_name="Used by", empty_values=(), orderable=False)
    actions = ActionsColumn()

    class Meta:
        model = Schedule
        fields = ["name", "timezone", "n_windows", "used_by"]
        order_by = ["name"]
        row_attrs = {"data-pk": lambda record: record.pk}

    def render_used_by(self, record):
        parts = []
        if record.n_rules:
            parts.append(plural(record.n_rules, "rule"))
        if record.n_targets:
            parts.append(plural(record.n_targets, "target"))
        return ", ".join(parts) or "—"

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("routing:schedule_edit", args=[record.pk])),
            RowAction("Add window", reverse("routing:schedulewindow_add", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("routing:schedule_delete", args=[record.pk]),
                disabled=_in_use((record.n_rules, "routing rule"), (record.n_targets, "target")),
                danger=True,
            ),
        ]
