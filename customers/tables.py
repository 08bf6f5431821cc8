"""List tables. Every column reads selected or annotated data only (no per-row queries)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from customers.models import Customer, Rate, RatePlan, Trunk, money
from routing.dialplan import CATCH_ALL
from vmgate.tables import ActionsColumn, BadgeColumn, PagedTable, RowAction

STATUS_COLORS = {"active": "success", "blocked": "danger", "disabled": "secondary"}


class CustomerTable(PagedTable):
    name = tables.Column(linkify=True)
    email = tables.Column(verbose_name="Email")
    # "country.code", not "country": tables2 would flatten the 250 country choices per row
    # to find the display name.
    country = tables.Column(accessor="country__code", order_by=("country",))
    billing_type = tables.Column(verbose_name="Type")
    balance = tables.Column(order_by=("balance",))
    trunk_count = tables.Column(verbose_name="Trunks", attrs={"td": {"class": "text-end"}})
    status = BadgeColumn(colors=STATUS_COLORS, attrs={"td": {"data-testid": "customer-status"}})
    actions = ActionsColumn()

    class Meta:
        model = Customer
        fields = ("name", "email", "country", "billing_type", "balance", "trunk_count", "status")
        row_attrs = {"data-pk": lambda record: record.pk}

    def __init__(self, *args, currency="USD", **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def render_country(self, value, record):
        return format_html('<span title="{}">{}</span>', record.country.name, record.country.code)

    def render_balance(self, value, record):
        return money(value, self.currency)

    def get_row_actions(self, record):
        block = record.status == Customer.ACTIVE
        trunks = record.trunk_count
        return [
            RowAction("Edit", reverse("customers:customer_edit", args=[record.pk])),
            RowAction(
                "Block" if block else "Unblock",
                reverse(
                    "customers:customer_block" if block else "customers:customer_unblock",
                    args=[record.pk],
                ),
                post=True,
                confirm=(
                    f"Block {record.name}? New calls from its trunks are refused; "
                    "configuration is kept."
                    if block
                    else f"Unblock {record.name}?"
                ),
                danger=block,
            ),
            RowAction(
                "Delete",
                reverse("customers:customer_delete", args=[record.pk]),
                danger=True,
                disabled=(
                    f"It has {trunks} trunk{'s' if trunks != 1 else ''}; delete them first."
                    if trunks
                    else None
                ),
            ),
        ]


class TrunkTable(PagedTable):
    customer = tables.Column(linkify=True, order_by=("customer__name", "name"))
    name = tables.Column(linkify=True)
    ip_count = tables.Column(verbose_name="IPs", attrs={"td": {"class": "text-end"}})
    rate_plan = tables.Column(linkify=True)
    tech_prefix = tables.Column(attrs={"td": {"class": "code-cell"}})
    max_concurrent_calls = tables.Column(verbose_name="Concurrent cap")
    codecs = tables.Column(orderable=False)
    status = BadgeColumn(colors=STATUS_COLORS)
    actions = ActionsColumn()

    class Meta:
        model = Trunk
        fields = (
            "customer",
            "name",
            "ip_count",
            "rate_plan",
            "tech_prefix",
            "max_concurrent_calls",
            "codecs",
            "status",
        )
        row_attrs = {"data-pk": lambda record: record.pk}

    def render_codecs(self, value):
        return ", ".join(value or [])

    def get_row_actions(self, record):
        reason = None
        uses = []
        if record.dialpeer_count:
            n = record.dialpeer_count
            uses.append(f"{n} dialpeer{'s' if n != 1 else ''}")
        if record.scoped_rule_count:
            n = record.scoped_rule_count
            uses.append(f"{n} routing rule{'s' if n != 1 else ''} scoped to it")
        if uses:
            reason = f"Used by {' and '.join(uses)}."
        return [
            RowAction("Edit", reverse("customers:trunk_edit", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("customers:trunk_delete", args=[record.pk]),
                danger=True,
                disabled=reason,
            ),
        ]


class RatePlanTable(PagedTable):
    name = tables.Column(linkify=True)
    currency = tables.Column()
    rate_count = tables.Column(verbose_name="Destinations", attrs={"td": {"class": "text-end"}})
    trunk_count = tables.Column(verbose_name="Trunks", attrs={"td": {"class": "text-end"}})
    status = BadgeColumn(colors=STATUS_COLORS)
    actions = ActionsColumn()

    class Meta:
        model = RatePlan
        fields = ("name", "currency", "rate_count", "trunk_count", "status")
        row_attrs = {"data-pk": lambda record: record.pk}

    def get_row_actions(self, record):
        n = record.trunk_count
        return [
            RowAction("View destinations", reverse("customers:rate_list", args=[record.pk])),
            RowAction("Edit", reverse("customers:rateplan_edit", args=[record.pk])),
            RowAction(
                "Delete",
                reverse("customers:rateplan_delete", args=[record.pk]),
                danger=True,
                disabled=(
                    f"{n} trunk{'s use' if n != 1 else ' uses'} it; assign them another plan first."
                    if n
                    else None
                ),
            ),
        ]


RATE_STATUS_COLORS = {"current": "success", "future": "info", "superseded": "secondary"}


class RateTable(PagedTable):
    code = tables.Column(
        verbose_name="Prefix", empty_values=(), attrs={"td": {"class": "code-cell"}}
    )
    description = tables.Column()
    rate_per_min = tables.Column(verbose_name="Rate/min")
    valid_since = tables.DateTimeColumn(verbose_name="Valid from", format="Y-m-d H:i")
    valid_to = tables.DateTimeColumn(verbose_name="Valid to", format="Y-m-d H:i", default="—")
    status = BadgeColumn(colors=RATE_STATUS_COLORS, orderable=False)
    actions = ActionsColumn()

    class Meta:
        model = Rate
        fields = ("code", "description", "rate_per_min", "valid_since", "valid_to", "status")
        row_attrs = {"data-pk": lambda record: record.pk}

    def render_code(self, value, record):
        url = reverse("customers:rate_detail", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value or CATCH_ALL)

    def render_status(self, value):
        color = RATE_STATUS_COLORS.get(value, "secondary")
        return format_html('<span class="badge text-bg-{}">{}</span>', color, value)

    def get_row_actions(self, record):
        return [
            RowAction("Edit", reverse("customers:rate_edit", args=[record.pk])),
            RowAction("Delete", reverse("customers:rate_delete", args=[record.pk]), danger=True),
        ]
