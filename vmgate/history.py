"""The History tab: who changed what, when, old → new, from django-simple-history records.

``history_rows(obj)`` reads the newest ``limit`` records of ``obj`` (plus the one before the
oldest, to diff it) in ONE query with the history user joined, diffs consecutive records in
Python, and resolves foreign-key ids to names with one query per related model — never a
query per row. The result feeds ``templates/generic/_history.html``::

    {% include "generic/_history.html" with history=history_rows %}
"""

from django.db import models

from customers.models import money
from routing.models import RoutingRule, rule_display

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "—"

#: Amounts of the tenant's money, shown as the pages show them (``100.00 USD``, not
#: ``100.0000``). Rates keep their own precision (a rate per minute has four decimals).
MONEY_FIELDS = {
    ("customers", "customer"): {"balance", "credit_limit", "overdraft_limit"},
    ("customers", "balanceentry"): {"amount", "balance_after"},
}


def _is_money(field):
    meta = field.model._meta
    model_name = meta.model_name.removeprefix("historical")
    return field.name in MONEY_FIELDS.get((meta.app_label, model_name), ())


def tracked_fields(history_model):
    """The original model's editable concrete fields that the history records carry."""
    return [
        f
        for f in history_model.tracked_fields
        if f.editable and f.concrete and f.name not in ("id", "tenant")
    ]


def _raw(record, field):
    return getattr(record, field.attname, None)


def _display(field, value, fk_names, currency=""):
    if value is None or value == "":
        return EMPTY
    if isinstance(field, models.ForeignKey):
        return fk_names.get((field.related_model, value), f"#{value}")
    if isinstance(field, models.DecimalField) and _is_money(field):
        return money(value, currency)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or EMPTY
    return str(value)


def collect_fk_ids(fields, records, wanted):
    """Add to ``wanted`` ({model: {pk, ...}}) every FK id that ``records`` mention."""
    for field in fields:
        if isinstance(field, models.ForeignKey):
            ids = {_raw(r, field) for r in records} - {None}
            if ids:
                wanted.setdefault(field.related_model, set()).update(ids)
    return wanted


def live_names(wanted):
    """{(model, pk): str(row)} for the rows that still exist (one query per model)."""
    names = {}
    for model, ids in wanted.items():
        qs = model._default_manager.filter(pk__in=ids)
        # str() of a trunk reads its customer: fetch the FKs its __str__ may follow.
        fk_names_of_model = [
            f.name for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)
        ]
        if fk_names_of_model:
            qs = qs.select_related(*fk_names_of_model)
        for row in qs:
            names[(model, row.pk)] = str(row)
    return names


def deleted_names(wanted, live):
    """{(model, pk): "name (deleted)"} for the rows of ``wanted`` that no longer exist,
    named from their last history record (one query per model that lost rows), so a
    change never reads "network #11" for a network that was removed."""
    names = {}
    for model, ids in wanted.items():
        missing = {pk for pk in ids if (model, pk) not in live}
        history = getattr(model, "history", None)
        if not missing or history is None:
            continue
        for record in history.filter(id__in=missing).order_by("-history_date", "-history_id"):
            if (model, record.id) in names:
                continue
            if model is RoutingRule:
                name = rule_display(record.code, record.label)
            else:
                name = getattr(record, "name", None)
            if name:
                names[(model, record.id)] = f"{name} (deleted)"
    return names


def display_names(wanted):
    """Live names, and deleted rows' last names: what a History row calls each FK."""
    live = live_names(wanted)
    return {**deleted_names(wanted, live), **live}


def _fk_names(fields, records):
    return display_names(collect_fk_ids(fields, records, {}))


def who(record):
    """The username behind a history record, or "system" (shell, import, migration)."""
    user = record.history_user
    return user.get_username() if user is not None else "system"


def record_changes(record, previous, fields, fk_names, currency=""):
    """[(label, old, new), ...] of one history record against the object's previous record
    (None when there is none): a creation lists its non-empty values, a deletion nothing."""
    action = ACTIONS.get(record.history_type, "changed")
    changes = []
    if action == "deleted":
        return changes
    for field in fields:
        new = _raw(record, field)
        if previous is not None and action == "changed":
            old = _raw(previous, field)
            if old != new:
                changes.append(
                    (
                        str(field.verbose_name),
                        _display(field, old, fk_names, currency),
                        _display(field, new, fk_names, currency),
                    )
                )
        elif new not in (None, "", [], False):
            changes.append(
                (str(field.verbose_name), EMPTY, _display(field, new, fk_names, currency))
            )
    return changes


def history_rows(obj, limit=50, children=(), currency=""):
    """Newest-first list of {"when", "who", "action", "changes": [(label, old, new), ...]}.

    ``changes`` of a "created" row lists the initial non-empty values (old is "—"); a
    "deleted" row lists none. ``who`` is the user's username, or "system" when the change
    came from outside a request (shell, import, data migration). Amounts of money read as
    on the pages, in ``currency`` (the tenant's).

    ``children``: ``(label, historical queryset, field name)`` triples whose records show
    as changes of ``obj`` (a trunk's authorized IPs: added "— → 203.0.113.10/32", removed
    "203.0.113.10/32 → —"); one more query per child kind.
    """
    history_manager = obj.history
    history_model = history_manager.model
    fields = tracked_fields(history_model)
    # limit + 1 so the oldest shown record still has its predecessor to diff against.
    records = list(
        history_manager.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    fk_names = _fk_names(fields, records)
    rows = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        rows.append(
            {
                "when": record.history_date,
                "who": who(record),
                "action": ACTIONS.get(record.history_type, "changed"),
                "changes": record_changes(record, previous, fields, fk_names, currency),
            }
        )
    for label, child_history, field_name in children:
        rows.extend(_child_rows(label, child_history, field_name, limit))
    if children:
        rows.sort(key=lambda row: row["when"], reverse=True)
        rows = rows[:limit]
    return rows


def _child_rows(label, child_history, field_name, limit):
    records = list(
        child_history.select_related("history_user").order_by("-history_date", "-history_id")[
            : 2 * limit
        ]
    )
    id_field = child_history.model.instance_type._meta.pk.attname
    rows = []
    for index, record in enumerate(records[:limit]):
        value = getattr(record, field_name)
        if record.history_type == "+":
            change = (label, EMPTY, value)
        elif record.history_type == "-":
            change = (label, value, EMPTY)
        else:
            own_id = getattr(record, id_field)
            previous = next(
                (r for r in records[index + 1 :] if getattr(r, id_field) == own_id), None
            )
            old = getattr(previous, field_name) if previous is not None else EMPTY
            if old == value:
                continue
            change = (label, old, value)
        rows.append(
            {
                "when": record.history_date,
                "who": who(record),
                "action": "changed",
                "changes": [change],
            }
        )
    return rows
