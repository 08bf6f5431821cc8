"""DialpeerTable: name, origin customer, routing rule (`374 — Armenia`), trunk, status, ⋮."""

import django_tables2 as tables
from django.db.models import Subquery
from django.urls import reverse
from django.utils.html import format_html
from django_tables2.data import TableQuerysetData

from dialpeers.models import Dialpeer
from vmgate.tables import ActionsColumn, RowAction


class DeferredJoinData(TableQuerysetData):
    """Table data whose page is found by ids first ("deferred join").

    ``LIMIT 25 OFFSET 99950`` over the joined rows would join every skipped row; instead the
    page's ids come from the dialpeer table alone (an index scan on the list's order) and
    only those 25 rows are joined: one query, the same at page 1 and page 4,000.
    """

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return super().__getitem__(key)
        page_ids = self.data.values("pk")[key]
        return self.data.filter(pk__in=Subquery(page_ids))


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


class DialpeerTable(tables.Table):
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
        empty_text = "No dialpeers yet."
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
