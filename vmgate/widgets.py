"""SearchSelect: a ``<select>`` for tables too large to render, searched as you type.

The select renders only the currently selected option (one query at most, whatever the size
of the table), plus a search box that ``hx-get``s an options endpoint with ``?q=…`` and
swaps the returned ``<option>``s into the select. The endpoint returns at most
:data:`MAX_OPTIONS` options, tenant-scoped. ``static/js/search-select.js`` (loaded by
``base.html``) fires a ``change`` event when a swap changes the selected value, so dependent fields follow.

Usage::

    rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        widget=SearchSelect("dialpeers:rule_options", include=["trunk"], reload_on=["trunk"]),
    )

An endpoint renders its rows with :func:`render_options`.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

MAX_OPTIONS = 50


class SearchSelect(forms.Select):
    """A select holding only its selected option, filled by an htmx search endpoint.

    - ``url_name``: the options endpoint (reversed at render time).
    - ``min_chars``: typing fewer characters sends no request (0: every keystroke does).
    - ``include``: names of other form fields sent along (e.g. the chosen trunk).
    - ``reload_on``: names of fields whose change (or reload) refreshes the options.
    - ``params``: fixed query parameters added to the endpoint URL.
    - ``load``: fetch the first options as soon as the page loads.
    """

    template_name = "widgets/search_select.html"

    def __init__(
        self,
        url_name,
        min_chars=0,
        *,
        include=(),
        reload_on=(),
        params=None,
        load=True,
        placeholder="Type to search…",
        attrs=None,
    ):
        super().__init__(attrs=attrs)
        self.url_name = url_name
        self.min_chars = int(min_chars)
        self.include = list(include)
        self.reload_on = list(reload_on)
        self.params = dict(params or {})
        self.load = load
        self.placeholder = placeholder

    def __deepcopy__(self, memo):
        obj = super().__deepcopy__(memo)
        obj.include = list(self.include)
        obj.reload_on = list(self.reload_on)
        obj.params = dict(self.params)
        return obj

    # Only the selected option is rendered: never iterate the whole queryset. ------------
    def _selected_choices(self, value):
        values = [v for v in value if v not in (None, "")]
        choices = []
        empty_label = None
        iterator = self.choices
        field = getattr(iterator, "field", None)
        if field is not None:
            empty_label = field.empty_label
        if empty_label is not None or field is None:
            choices.append(("", empty_label or "---------"))
        queryset = getattr(iterator, "queryset", None)
        if queryset is None:
            # Plain choices: keep only the selected ones (the list is already in memory).
            wanted = {str(v) for v in values}
            choices.extend((k, v) for k, v in self.choices if str(k) in wanted and k != "")
            return choices
        pk_field = queryset.model._meta.pk
        pks = []
        for v in values:
            try:
                pk = pk_field.to_python(v)
            except (ValidationError, TypeError, ValueError):
                continue
            # An id outside a 64-bit key cannot exist (and SQLite cannot even compare it).
            if isinstance(pk, int) and not 0 < pk < 2**63:
                continue
            pks.append(pk)
        if pks:
            for obj in queryset.filter(pk__in=pks):
                choices.append((obj.pk, field.label_from_instance(obj)))
        return choices

    def optgroups(self, name, value, attrs=None):
        groups = []
        for index, (option_value, option_label) in enumerate(self._selected_choices(value)):
            selected = str(option_value) in value
            groups.append(
                (
                    None,
                    [
                        self.create_option(
                            name, option_value, option_label, selected, index, attrs=attrs
                        )
                    ],
                    index,
                )
            )
        return groups

    def get_context(self, name, value, attrs):
        ctx = super().get_context(name, value, attrs)
        select_id = ctx["widget"]["attrs"].get("id") or f"id_{name}"
        url = reverse(self.url_name)
        if self.params:
            url = f"{url}?{urlencode(self.params)}"
        include = [f"#{select_id}"] + [f"[name='{n}']" for n in self.include]
        triggers = []
        if self.load:
            triggers.append("load")
        cond = f"[target.value.length >= {self.min_chars}]" if self.min_chars else ""
        triggers.append(f"input changed delay:250ms{cond}")
        for other in self.reload_on:
            triggers.append(f"change from:[name='{other}']")
            triggers.append(f"htmx:afterSettle from:[name='{other}']")
        ctx["search"] = {
            "id": f"{select_id}_search",
            "url": url,
            "target": f"#{select_id}",
            "include": ", ".join(include),
            "trigger": ", ".join(triggers),
            "placeholder": self.placeholder,
            "min_chars": self.min_chars,
        }
        return ctx


def render_options(rows, label=str, *, empty_label="---------", selected=None, empty=True):
    """``<option>`` elements for an endpoint response.

    ``rows`` are model instances (at most :data:`MAX_OPTIONS` are rendered); ``selected``
    is the pk to mark selected. ``empty`` adds the empty option first.
    """
    parts = []
    if empty:
        parts.append(format_html('<option value="">{}</option>', empty_label))
    parts.append(
        format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (row.pk, mark_safe(" selected") if selected == row.pk else "", label(row))
                for row in list(rows)[:MAX_OPTIONS]
            ),
        )
    )
    return mark_safe("".join(parts))


def int_param(request, name):
    """``request.GET[name]`` as a positive int, or None for missing or garbage (NUL, `abc`)."""
    raw = request.GET.get(name, "")
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value or None
