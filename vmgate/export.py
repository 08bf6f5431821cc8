"""CSV export of a list page (SPEC §8): the list's address with ``export=csv`` answers every
matching row (filters and sort kept, not one page), streamed, UTF-8 with a header row.

Columns are the API field names; a reference is written as its natural key (a customer or
rate plan by name, a trunk by its customer's and its own name, a rule by its code). Each kind
declares its columns once, as a tuple of :class:`Column` (``customers/bulk.py``,
``routing/bulk.py``, ``dialpeers/bulk.py``): the import of that kind is to read the same
tuple, so what an export writes is what an import reads.

Cells a spreadsheet would run as a formula (text starting with ``= + - @``, a tab or a
carriage return) are written with a leading ``'`` (OWASP's CSV injection advice); numbers,
dates and booleans are written by this module and never start with one of those but a
minus sign, which a number may have.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.http import StreamingHttpResponse
from django.utils.text import slugify

#: The query parameter and value that turn a list page into its CSV export.
EXPORT_PARAM, EXPORT_CSV = "export", "csv"
#: Rows read from the database per round trip while streaming.
CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column: its name (the API field name) and how a row's value is read."""

    name: str
    get: Callable


def field(name: str, path: str | None = None) -> Column:
    """The attribute ``path`` (dotted; default ``name``) of the row; empty when a step of
    the path is None or unset."""
    steps = (path or name).split(".")

    def get(obj):
        for step in steps:
            if obj is None:
                return None
            try:
                obj = getattr(obj, step)
            except ObjectDoesNotExist:  # an unsaved row's unset reference (the import)
                return None
        return obj

    return Column(name, get)


def cell(value, neutralise=True) -> str:
    """A value as its CSV text: booleans ``true``/``false``, dates ISO 8601, lists joined
    by spaces, None empty, formula-like text neutralised (unless ``neutralise`` is False:
    the import's own reading of a stored value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if neutralise and text.startswith(_FORMULA_START) else text


class _Echo:
    """A file whose ``write`` returns what it was given (csv.writer into a generator)."""

    def write(self, value):
        return value


def csv_response(filename: str, columns: tuple[Column, ...], rows: Iterable):
    """A streamed ``text/csv`` attachment: the header row, then one line per row."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([c.name for c in columns])
        for row in rows:
            yield writer.writerow([cell(c.get(row)) for c in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    safe = slugify(filename) or "export"
    response["Content-Disposition"] = f'attachment; filename="{safe}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def wants_csv(request) -> bool:
    return request.GET.get(EXPORT_PARAM) == EXPORT_CSV
