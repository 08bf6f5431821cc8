"""Shared table pieces: the base of every table, the row ``⋮`` menu and a status badge."""

import django_tables2 as tables
from django.conf import settings
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from vmgate import paging


class PagedTable(tables.Table):
    """The base of every table: ``request=`` orders and pages it through
    :func:`vmgate.paging.paginate` (never django-tables2's ``RequestConfig``, which fails
    on ``?per_page=-1`` and parses ``?page=٤`` as 4), and ``per_page=`` sets the page size.

    Rendered with ``generic/_table.html``: sort and paging links carry the list's own path
    (never a relative ``?page=2``, which resolves against whatever the address bar shows).
    """

    def __init__(self, *args, request=None, per_page=None, **kwargs):
        default = getattr(settings, "DJANGO_TABLES2_TEMPLATE", None)
        if kwargs.get("template_name") is None and self._meta.template_name == default:
            kwargs["template_name"] = "generic/_table.html"
        super().__init__(*args, **kwargs)
        self.request = request
        if request is not None:
            paging.paginate(self, request, per_page)


class RowAction:
    """One item of a row's ⋮ menu.

    ``post=True`` renders a small form (with CSRF) that POSTs to ``url`` after a browser
    confirmation; ``disabled`` holds the reason shown when the action is not possible now.
    """

    def __init__(self, label, url, *, post=False, confirm=None, disabled=None, danger=False):
        self.label, self.url, self.post = label, url, post
        self.confirm, self.disabled, self.danger = confirm, disabled, danger


class ActionsColumn(tables.Column):
    """Renders ``table.get_row_actions(record)`` as a ⋮ dropdown; hidden for viewers."""

    def __init__(self, **kwargs):
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("verbose_name", "")
        kwargs.setdefault("attrs", {"td": {"class": "text-end row-actions"}})
        super().__init__(**kwargs)

    def render(self, record, table):
        request = getattr(table, "request", None)
        membership = getattr(request, "membership", None)
        if membership is None or not membership.can_write:
            return ""
        actions = table.get_row_actions(record)
        # No RequestContext per row: it would run every context processor (the sidebar's
        # URL reversing) once per row. The POST forms only need the CSRF token.
        return render_to_string(
            "generic/_row_actions.html",
            {"actions": actions, "record": record, "csrf_token": get_token(request)},
        )


class BadgeColumn(tables.Column):
    """A status as a coloured badge; ``colors`` maps a value to a Bootstrap colour."""

    def __init__(self, colors=None, **kwargs):
        self.colors = colors or {}
        super().__init__(**kwargs)

    def render(self, value, record, bound_column):
        raw = getattr(record, bound_column.accessor.split(".")[-1], value)
        color = self.colors.get(raw, "secondary")
        from django.utils.html import format_html

        return format_html('<span class="badge text-bg-{}">{}</span>', color, value)
