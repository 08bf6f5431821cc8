"""The one paging implementation of every list page: request parameters, page rows, memory.

Three parts, used together by :class:`vmgate.tables.PagedTable` (every table of the portal)
and :class:`vmgate.views.TenantListView` (every list page):

**Parameters.** ``page``, ``per_page`` and ``sort`` come from the address bar, so they can be
anything. :func:`paginate` never fails: a page that is not a plain ASCII number (``-1``,
``٤``, ``abc``, NUL) is page 1; a page past the end is the last page (the table says so);
``per_page`` is one of :data:`PER_PAGE_CHOICES` or the default. django-tables2's own
``RequestConfig`` paging is never used: it parses with ``int()`` (which accepts ``٤``) and
assigns ``table.page`` behind the table's back when a page is out of range.

**Page rows (deferred join).** ``SELECT wide_row, (subquery counts…) … ORDER BY … OFFSET
49975 LIMIT 25`` makes PostgreSQL build (and compute every correlated subquery of) all
50,000 rows before the offset. :func:`deferred_paging` turns a queryset's slicing into two
queries of fixed cost:

1. the page's primary keys: ``SELECT id … ORDER BY … OFFSET … LIMIT 25`` (narrow rows,
   no select_related joins or subqueries unless the ordering or a filter needs them);
2. the rows of those keys, built by ``rows(pks)`` (default: the same queryset filtered
   to them), put back in the order of step 1. A list whose rows show per-row figures
   (counts, traffic state) computes them here, for the page's rows only.

Counting and filtering are unchanged; the paginator slices the queryset. A sort with ties
(``-trunk_count``: thousands of customers with 5 trunks) is completed with the primary key,
or the database may return tied rows in another order for each page (a row on two pages,
another on none).

**Memory.** :func:`per_page_for` remembers a user's per-page choice (one value for all lists,
as NetBox does) in :class:`vmgate.models.UserPreference`, so it survives logout and other
browsers.
"""

from collections.abc import Sequence

from django.core.paginator import Paginator
from django.db.models.query import ModelIterable

from vmgate.models import UserPreference

PER_PAGE_CHOICES = (25, 50, 100, 250)
DEFAULT_PER_PAGE = PER_PAGE_CHOICES[0]
PAGE_FIELD, PER_PAGE_FIELD, SORT_FIELD = "page", "per_page", "sort"
# Parameters that shape the view of a list, not which rows match (everything else filters).
VIEW_PARAMS = frozenset({PAGE_FIELD, PER_PAGE_FIELD, SORT_FIELD})


def plain_number(raw, max_digits=9):
    """``raw`` as a positive int if it is 1 to ``max_digits`` ASCII digits, else None.

    ``int()`` alone would take ``٤`` (4), `` 7 ``, ``+7`` and ``1_000``."""
    if not isinstance(raw, str) or not raw or len(raw) > max_digits:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw) or None


def per_page_choice(raw):
    """``raw`` if it names one of :data:`PER_PAGE_CHOICES`, else None."""
    n = plain_number(raw, max_digits=3)
    return n if n in PER_PAGE_CHOICES else None


def paginate(table, request=None, per_page=None):
    """Order and paginate ``table`` from ``request``'s parameters; never raises.

    Sets ``table.paginator``, ``table.page`` and ``table.requested_page`` (the page number
    asked for when it did not exist and another is shown, else None).
    """
    params = request.GET if request is not None else {}
    if request is not None:
        sort = [s for s in params.getlist(table.prefixed_order_by_field) if s]
        if sort:
            # Unknown or unorderable names are dropped by django-tables2's setter.
            table.order_by = sort
    if per_page not in PER_PAGE_CHOICES:
        per_page = per_page_choice(params.get(table.prefixed_per_page_field)) or DEFAULT_PER_PAGE
    asked = plain_number(params.get(table.prefixed_page_field)) or 1
    table.paginator = Paginator(table.rows, per_page)
    number = min(asked, table.paginator.num_pages)  # num_pages is at least 1
    table.page = table.paginator.page(number)
    table.requested_page = asked if asked != number else None
    return table


def per_page_for(request):
    """The per-page size for this request: a valid ``?per_page=`` (remembered for the user),
    else the user's remembered choice, else :data:`DEFAULT_PER_PAGE`."""
    user = getattr(request, "user", None)
    wanted = per_page_choice(request.GET.get(PER_PAGE_FIELD))
    if user is None or not user.is_authenticated:
        return wanted or DEFAULT_PER_PAGE
    if wanted is not None:
        UserPreference.remember(user, per_page=wanted)
        return wanted
    stored = UserPreference.objects.filter(user=user).values_list("per_page", flat=True).first()
    return stored if stored in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def is_filtered(request):
    """True when a parameter other than paging and sorting has a value (a filter or search)."""
    return any(
        value.strip()
        for key, values in request.GET.lists()
        if key not in VIEW_PARAMS
        for value in values
    )


# Deferred join -------------------------------------------------------------------------

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
    table shows (annotations that must not be computed over the whole list). Wrapping an
    already wrapped queryset only replaces ``rows`` (when given).
    """
    if isinstance(queryset, DeferredPagingMixin):
        clone = queryset._chain()
        if rows is not None:
            clone._page_rows = rows
        return clone
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
