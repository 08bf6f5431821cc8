"""Deferred-join paging: late pages of big sorted lists stay cheap.

``SELECT wide_row, (subquery counts…) … ORDER BY … OFFSET 49975 LIMIT 25`` makes PostgreSQL
build (and compute every correlated subquery of) all 50,000 rows before the offset.
:func:`deferred_paging` turns a queryset's slicing into two queries of fixed cost:

1. the page's primary keys: ``SELECT id … ORDER BY … OFFSET … LIMIT 25`` (narrow rows,
   no select_related joins or subqueries unless the ordering or a filter needs them);
2. the rows of those keys, built by ``rows(pks)`` (default: the same queryset filtered
   to them), put back in the order of step 1.

Counting and filtering are unchanged; django-tables2's paginator slices the queryset, so a
list view only wraps its ``get_queryset()``. A sort with ties (``-trunk_count``: thousands of
customers with 5 trunks) is completed with the primary key, or the database may return tied
rows in another order for each page (a row on two pages, another on none).
"""

from collections.abc import Sequence

from django.db.models.query import ModelIterable

_classes = {}


class DeferredPagingMixin:
    _page_rows = None

    def _clone(self):
        clone = super()._clone()
        clone._page_rows = self._page_rows
        return clone

    def __getitem__(self, k):
        if (
            not isinstance(k, slice)
            or self._result_cache is not None
            or self._iterable_class is not ModelIterable
        ):
            return super().__getitem__(k)
        return LazyPage(self, k)


class LazyPage(Sequence):
    """The rows of one slice, loaded on first use (like a sliced QuerySet, which
    django-tables2 may build and discard before rendering)."""

    def __init__(self, queryset, key):
        self._queryset, self._key, self._rows = queryset, key, None

    def _load(self):
        if self._rows is None:
            qs = total_order(self._queryset)
            pks = list(qs.values_list("pk", flat=True)[self._key])
            rows = []
            if pks:
                loaded = qs._page_rows(pks) if qs._page_rows else qs.filter(pk__in=pks)
                by_pk = {row.pk: row for row in loaded.order_by()}
                rows = [by_pk[pk] for pk in pks if pk in by_pk]
            self._rows = rows
        return self._rows

    def __getitem__(self, i):
        return self._load()[i]

    def __len__(self):
        return len(self._load())

    def __iter__(self):
        return iter(self._load())


def total_order(queryset):
    """``queryset`` with an explicit ordering completed by the primary key, in the direction
    of the first sort key (as the admin does), so no two rows tie. The default ordering
    (``Meta.ordering``, which ends with the id) is left as it is.

    Only the key, not the whole default ordering: a wider sort key made a late page of
    100,000 destinations sorted by rate 1.5x slower, and (trunk_count, id) is one index."""
    ordering = list(queryset.query.order_by)
    if not ordering or any(not isinstance(o, str) or o == "?" for o in ordering):
        return queryset
    if {o.lstrip("-") for o in ordering} & {"pk", queryset.model._meta.pk.name}:
        return queryset
    return queryset.order_by(*ordering, "-pk" if ordering[0].startswith("-") else "pk")


def deferred_paging(queryset, rows=None):
    """``queryset`` whose slices load in two fixed-cost queries (see module docstring).

    ``rows(pks)`` returns the queryset that loads the page's rows with everything the
    table shows (annotations that must not be computed over the whole list).
    """
    base = type(queryset)
    cls = _classes.get(base)
    if cls is None:
        cls = _classes[base] = type(
            f"DeferredPaging{base.__name__}", (DeferredPagingMixin, base), {}
        )
    clone = queryset._chain()
    clone.__class__ = cls
    clone._page_rows = rows
    return clone
