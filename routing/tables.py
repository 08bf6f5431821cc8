"""List tables. Every cell reads select_related or annotated data (routing/queries.py)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from routing.models import Network, RoutingRule, VMGateClient
from routing.queries import annotate_clients, annotate_networks, annotate_rules, targets_summary
from vmgate.tables import ActionsColumn, BadgeColumn, RowAction

CLIENT_STATUS_COLORS = {
    VMGateClient.READY: "success",
    VMGateClient.NO_DONGLE: "warning",
    VMGateClient.OFF: "secondary",
}


def plural(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


class PageFiguresMixin:
    """Per-row figures (counts, traffic state) computed for the shown page only.

    The list query pages first (cheap, index-ordered); then ONE query computes the
    correlated-subquery figures for the rows of the page and sets them on the records.
    Computing them inside the list query would make PostgreSQL evaluate them for every
    row skipped by OFFSET (seconds on a late page of 100,000 rules).
    """

    @staticmethod
    def figures(queryset):
        raise NotImplementedError

    def paginate(self, *args, **kwargs):
        super().paginate(*args, **kwargs)
        # The page's sliced queryset: iterating it caches the very instances the rows render.
        records = list(self.page.object_list.data)
        if not records:
            return
        model = type(records[0])
        qs = self.figures(model._default_manager.filter(pk__in=[r.pk for r in records]))
        names = list(qs.query.annotations)
        values = {row["pk"]: row for row in qs.values("pk", *names)}
        for record in records:
            for name in names:
                setattr(record, name, values[record.pk][name])


class NetworkTable(PageFiguresMixin, tables.Table):
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
    figures = staticmethod(annotate_networks)
    actions = ActionsColumn()

    class Meta:
        model = Network
        fields = ["name", "n_clients", "n_ready"]
        order_by = ["name"]
        empty_text = "No networks yet."

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


class VMGateClientTable(PageFiguresMixin, tables.Table):
    name = tables.Column(linkify=True, verbose_name="Device name")
    node_id = tables.Column(attrs={"td": {"class": "font-monospace"}})
    # Accessors read the FK id only: the names come from the page's figures query.
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
        empty_text = "No VMGateClients yet."

    figures = staticmethod(annotate_clients)

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


class RoutingRuleTable(PageFiguresMixin, tables.Table):
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
        empty_text = "No routing rules match."
        row_attrs = {"data-pk": lambda record: record.pk}

    figures = staticmethod(annotate_rules)

    def render_code(self, record):
        return record.code or "* (any)"

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
