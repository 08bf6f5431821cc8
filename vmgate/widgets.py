"""SearchSelect: the portal's one searchable select (Tom Select over a plain ``<select>``).

The ``<select>`` renders only its selected option (one query at most, whatever the size of
the table) and carries ``data-*`` attributes; ``static/js/search-select.js`` (loaded by
``base.html``) turns every ``select[data-search-select]`` into one Tom Select control: type
to filter, arrow keys, Enter. With a ``url_name`` the options come from a tenant-scoped
endpoint (``?q=…`` plus the select's own value and the ``include``d fields), at most
:data:`MAX_OPTIONS` per request; without one (``SearchSelect(None)``, or any select given
``data-search-select``) the options already in the page are filtered in the browser.

The control fetches with ``fetch()``, never through htmx, so it never touches the page's
URL (a filter form's ``hx-push-url`` does not apply to it). The original ``<select>`` stays
in the form, hidden, right before the control: a field error rendered after it is shown by
Bootstrap's ``.is-invalid ~ .invalid-feedback`` rule like any other field's.

Usage::

    rule = forms.ModelChoiceField(
        queryset=RoutingRule.objects.all(),
        widget=SearchSelect("routing:rule_options", include=["trunk"], reload_on=["trunk"]),
    )

``reload_on`` fields (e.g. the customer of a trunk) reload the options when they change and
drop a chosen value the new options do not hold; ``pick_single`` then picks the only
option for you. An endpoint answers with :func:`options_response`.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from vmgate.tenancy import parse_pk

MAX_OPTIONS = 50
MAX_QUERY = 100


class SearchSelect(forms.Select):
    """A select holding only its selected option, searched through an options endpoint.

    - ``url_name``: the options endpoint (reversed at render time); None filters the
      options rendered in the page instead.
    - ``min_chars``: typing fewer characters sends no request (0: every search does).
    - ``include``: names of other fields of the form sent along (e.g. the chosen trunk).
    - ``reload_on``: names of fields whose change reloads the options.
    - ``pick_single``: after such a reload, pick the option when it is the only one.
    - ``params``: fixed query parameters added to the endpoint URL.
    """

    def __init__(
        self,
        url_name=None,
        min_chars=0,
        *,
        include=(),
        reload_on=(),
        pick_single=False,
        params=None,
        placeholder="Type to search…",
        attrs=None,
        choices=(),
    ):
        super().__init__(attrs=attrs, choices=choices)
        self.url_name = url_name
        self.min_chars = int(min_chars)
        self.include = list(include)
        self.reload_on = list(reload_on)
        self.pick_single = pick_single
        self.params = dict(params or {})
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
        if self.url_name is None:
            return super().optgroups(name, value, attrs)
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
        data = {
            "data-search-select": "",
            "data-placeholder": self.placeholder,
            # An optional field keeps its empty choice ("All trunks", "Any …") pickable.
            "data-allow-empty": "0" if self.is_required else "1",
        }
        if self.url_name is not None:
            url = reverse(self.url_name)
            if self.params:
                url = f"{url}?{urlencode(self.params)}"
            data["data-url"] = url
        if self.min_chars:
            data["data-min-chars"] = str(self.min_chars)
        if self.include:
            data["data-include"] = ",".join(self.include)
        if self.reload_on:
            data["data-reload-on"] = ",".join(self.reload_on)
        if self.pick_single:
            data["data-pick-single"] = "1"
        ctx["widget"]["attrs"].update(data)
        return ctx


# Options endpoints ------------------------------------------------------------------------


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


def search_text(request):
    """``?q=``: stripped, bounded, without NUL (PostgreSQL refuses NUL in text)."""
    return request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]


def selected_pk(request, name):
    """The pk currently chosen in the select named ``name`` (or ``<prefix>-name``, a
    formset row), or None for missing or garbage."""
    for key, value in request.GET.items():
        if (key == name or key.endswith("-" + name)) and (pk := parse_pk(value)) is not None:
            return pk
    return None


def options_response(qs, label, ordering, selected, q, empty_label="---------"):
    """The first :data:`MAX_OPTIONS` rows of ``qs`` by ``ordering`` as ``<option>``s, the
    selected row (if in ``qs``) first. Without a search the empty option comes first; a
    search without matches answers one empty "No match" option."""
    rows = []
    if selected is not None:
        rows = list(qs.filter(pk=selected))
    rest = qs.order_by(*ordering)
    if rows:
        rest = rest.exclude(pk=selected)
    rows += list(rest[: MAX_OPTIONS - len(rows)])
    if q and rows:
        return HttpResponse(render_options(rows, label, selected=selected, empty=False))
    if q:
        return HttpResponse(render_options([], empty_label="No match"))
    return HttpResponse(render_options(rows, label, selected=selected, empty_label=empty_label))
