"""DialpeerTable: name, origin customer, routing rule (`374 — Armenia`), trunk, status, ⋮."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from dialpeers.models import Dialpeer
from vmgate.tables import ActionsColumn, PagedTable, RowAction


class SelectColumn(tables.CheckBoxColumn):
    """Row checkbox for bulk actions (shown to operators only, see DialpeerTable)."""

    def __init__(self, **kwargs):
        super().__init__(
            accessor="pk",
            attrs={
                "th__input": {"aria-label": "Select all rows", "data-select-all": "pk"},
                "td__input": {"form": "bulk-form", "aria-label": "Select row"},
            },
            **kwargs,
        )


class DialpeerTable(PagedTable):
    pk = SelectColumn()
    name = tables.Column(verbose_name="Name", linkify=True, order_by=("name", "id"))
    customer = tables.Column(
        verbose_name="Origin customer", accessor="customer__name", order_by=("customer__name", "id")
    )
    rule = tables.Column(
        verbose_name="Routing rule", order_by=("rule__code", "rule__label", "name", "id")
    )
    trunk = tables.Column(
        verbose_name="Trunk", accessor="trunk__name", order_by=("trunk__name", "name", "id")
    )
    is_active = tables.Column(verbose_name="Status", order_by=("-is_active", "name", "id"))
    actions = ActionsColumn()

    class Meta:
        model = Dialpeer
        fields = ["pk", "name", "customer", "rule", "trunk", "is_active", "actions"]
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "dialpeers"}
        row_attrs = {"data-pk": lambda record: record.pk}
        # Rows are written out in the template (see its comment); columns define headers,
        # sorting and the row actions.
        template_name = "dialpeers/_dialpeer_table.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        membership = getattr(self.request, "membership", None) if self.request else None
        self.can_write = bool(membership and membership.can_write)
        self.base_url = reverse("dialpeers:dialpeer_list")
        if not self.can_write:
            self.columns.hide("pk")
            self.columns.hide("actions")

    def render_rule(self, record):
        return str(record.rule)

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', "Active")
        return format_html('<span class="badge text-bg-secondary">{}</span>', "Inactive")

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("dialpeers:dialpeer_edit", args=[record.pk])),
            RowAction(
                "Remove", reverse("dialpeers:dialpeer_delete", args=[record.pk]), danger=True
            ),
        ]
