"""Bulk import with a preview (SPEC §8): read a CSV or XLSX file, stage its rows through the
same forms (and so the same ``full_clean()`` and invariants) as the pages, and report what
would be created, updated, deleted or left unchanged, every error with its line and column,
and the saved routing checks whose outcome would change.

One code path serves the preview and the apply: :func:`run_import` writes the staged rows
inside one transaction, runs the tenant's routing checks before and after (the engine sees
the transaction's own writes), and then either rolls everything back (a preview, or any
error) or commits it with one :class:`~vmgate.models.ImportRun`, the change-log entry. So a
preview can never promise what the apply would refuse, and an import can never create what a
form would refuse.

The kinds (which columns, how a row finds its existing object, which form validates it) are
in :mod:`vmgate.import_kinds`; the columns are the export's (``*/bulk.py``), so export →
import is a no-op.
"""

from __future__ import annotations

import contextvars
import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils.html import strip_tags

from routing.checks.running import checks_queryset, decide, differences
from routing.engine import IngressError
from routing.models import RoutingCheck
from vmgate.export import cell
from vmgate.models import ImportRun

#: Largest file read (bytes). A 100,000-row rate deck is ~6 MB of CSV.
MAX_BYTES = 20 * 1024 * 1024
#: Most data rows read from one file.
MAX_ROWS = 200_000
#: Errors (and rows per action) listed in a preview; counts are always complete.
LIST_LIMIT = 200
#: Preview rows shown per action.
SAMPLE_ROWS = 20

MODES = ("add", "update", "replace")
#: history_change_reason prefix of every record an import writes (the change log shows the
#: import's one entry instead of them).
IMPORT_REASON = "import:"
DEFAULT_MODE = "update"

TRUE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
BOOL_HELP = "Enter true or false (or 1/0, yes/no)."
# A code a spreadsheet turned into a number: 374.0, 3.74E+02, 3,74E+02.
_NUMBER_LOOKING = re.compile(r"^\s*\d+([.,]\d*)?([eE][+-]?\d+)?\s*$")
# A cell a spreadsheet would run (OWASP's CSV injection list): "=" or "@" first, or "+" /
# "-" first followed by more than a number or a phone number ("+374 10 123456", "-1.5").
_FORMULA_START = ("=", "@")
_SIGNED_NUMBER = re.compile(r"^[+-][0-9 ().\-]*\Z")
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


#: The reason of the import running in this context (tags every history record it writes).
_current_reason = contextvars.ContextVar("vmgate_import_reason", default=None)


def tag_history(sender=None, history_instance=None, instance=None, **kwargs):
    """simple-history's pre_create_historical_record receiver (vmgate.apps): a record
    written while an import runs carries the import's reason — a trunk's authorized IPs and
    a client's SIM slots, saved by their formsets, included."""
    reason = _current_reason.get()
    if getattr(instance, "is_import_entry", False):
        return  # the import's own entry is what the change log shows
    if reason and history_instance is not None and not history_instance.history_change_reason:
        history_instance.history_change_reason = reason


class FileError(ValueError):
    """The file as a whole cannot be read (encoding, size, no rows, its header)."""


class NumberCell(str):
    """A cell an XLSX file stores as a number (its text is how we read it)."""


class FormulaCell(str):
    """A cell an XLSX file stores as a formula."""


@dataclass
class Table:
    filename: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line or spreadsheet row number, cells)


# --- reading -----------------------------------------------------------------------------


def too_large(size: int) -> str:
    """What is said of a file over :data:`MAX_BYTES` (the reader, the page, the API)."""
    return (
        f"The file is {size / 1048576:.1f} MB; the limit is {MAX_BYTES // 1048576} MB. "
        "Split it into smaller files."
    )


def read_table(filename: str, data: bytes) -> Table:
    """The header and rows of a CSV (UTF-8 with or without BOM; comma, semicolon or tab,
    detected from the header line) or XLSX (first sheet) file. Raises :class:`FileError`."""
    if len(data) > MAX_BYTES:
        raise FileError(too_large(len(data)))
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        header, rows = _read_xlsx(data)
    else:
        header, rows = _read_csv(data)
    header = [h.strip().lower() for h in header]
    rows = [(line, cells) for line, cells in rows if any(c.strip() for c in cells)]
    if not header or not any(header):
        raise FileError("The file is empty: the first line must name the columns.")
    if not rows:
        raise FileError("The file has a header but no rows.")
    if len(rows) > MAX_ROWS:
        raise FileError(f"The file has {len(rows):,} rows; the limit is {MAX_ROWS:,}.")
    return Table(filename, header, rows)


def _read_csv(data: bytes):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position "
            f"{exc.start}). Save it as “CSV UTF-8” or as XLSX."
        ) from None
    if "\x00" in text:
        raise FileError("The file contains NUL bytes: it is not a text CSV file.")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        header = next(reader, [])
        start = reader.line_num + 1  # a row's first line (a quoted cell may span lines)
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise FileError(f"Line {reader.line_num}: the CSV cannot be read ({exc}).") from None
    return header, rows


def _xlsx_cell(value):
    """A cell's value as text; a formula (read as its text, ``=…``, since the workbook is
    opened without cached values) and a number keep their kind for the checks."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith("="):
        return FormulaCell(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return NumberCell(str(value))
    if isinstance(value, float):
        return NumberCell(repr(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes):
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise FileError(f"The file is not a readable XLSX workbook ({exc}).") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise FileError("The workbook has no sheet.")
        rows = []
        header = None
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(value) for value in row]
            if header is None:
                header = [str(c) for c in cells]
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                break
        return header or [], rows
    finally:
        book.close()


# --- cells -------------------------------------------------------------------------------


class RowErrors(Exception):
    """Errors of one row: ``[(column, message), ...]`` ("" = the row as a whole)."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = list(errors)


def fail(column, message):
    """Refuse the row being read: one error under ``column`` ("" = the row as a whole)."""
    raise RowErrors([(column, message)])


def text_value(raw: str, column: str, *, code=False) -> str:
    """One cell as the text a form field receives. Undoes the export's neutralising quote
    (``'=x`` → ``=x``); refuses a formula (``=…``, ``@…``, ``+``/``-`` followed by more than
    a number or phone number), and for a code column a value a spreadsheet turned into a
    number (leading zeros would be lost; ``374.0``, ``3.74E+02``)."""
    if isinstance(raw, FormulaCell):
        raise RowErrors([(column, f"“{raw[:40]}” is a formula; imports read values only.")])
    if code and isinstance(raw, NumberCell):
        raise RowErrors(
            [
                (
                    column,
                    f"“{raw}” is stored as a number; codes are text: format the column as "
                    "Text so leading zeros are kept.",
                )
            ]
        )
    value = raw.strip()
    if value.startswith(_NEUTRALISED):
        return value[1:]
    if value.startswith(_FORMULA_START) or (
        value.startswith(("+", "-")) and not _SIGNED_NUMBER.match(value)
    ):
        raise RowErrors(
            [
                (
                    column,
                    f"“{value[:40]}” starts like a spreadsheet formula; write it with a "
                    "leading ' to import it as text.",
                )
            ]
        )
    if code and value and not value.isdigit() and _NUMBER_LOOKING.match(value):
        raise RowErrors(
            [
                (
                    column,
                    f"“{value}” looks like a number a spreadsheet converted; codes are "
                    "text (digits only): format the column as Text so leading zeros are "
                    "kept.",
                )
            ]
        )
    return value


def bool_value(raw: str, column: str) -> bool:
    word = str(raw).strip().lower()
    if word not in TRUE_WORDS:
        raise RowErrors([(column, f"“{raw}”: {BOOL_HELP}")])
    return TRUE_WORDS[word]


def form_errors(form):
    """[(column, message)] of a bound form (non-field errors under ""), as plain text."""
    out = []
    for name, errors in form.errors.items():
        column = "" if name == "__all__" else name
        out.extend((column, strip_tags(str(e))) for e in errors)
    return out


# --- the result --------------------------------------------------------------------------


@dataclass
class RowChange:
    line: int
    action: str  # create / update / delete / unchanged
    label: str
    changes: list = field(default_factory=list)  # [(column, old text, new text)]


@dataclass
class CheckChange:
    check_id: int
    name: str
    before: str
    after: str
    passed_before: bool
    passed_after: bool


@dataclass
class ImportResult:
    kind: str
    mode: str
    filename: str
    counts: dict = field(
        default_factory=lambda: dict.fromkeys(("create", "update", "delete", "unchanged"), 0)
    )
    error_rows: int = 0
    errors: list = field(default_factory=list)  # (line, column, message), LIST_LIMIT at most
    error_total: int = 0
    file_error: str = ""
    rows: dict = field(default_factory=dict)  # action → [RowChange] (SAMPLE_ROWS each)
    check_changes: list = field(default_factory=list)
    applied: bool = False
    run_id: int | None = None

    @property
    def ok(self):
        return not self.file_error and not self.error_total

    def error(self, line, column, message):
        self.error_total += 1
        if len(self.errors) < LIST_LIMIT:
            self.errors.append((line, column, message))

    def file_failed(self, message):
        self.file_error = message
        self.error_total += 1

    def record(self, change: RowChange):
        self.counts[change.action] += 1
        sample = self.rows.setdefault(change.action, [])
        if len(sample) < SAMPLE_ROWS:
            sample.append(change)

    def summary(self):
        """``Imported rates.csv: 1,234 created, 56 updated`` (what the change log says)."""
        parts = [
            f"{self.counts[a]:,} {word}"
            for a, word in (("create", "created"), ("update", "updated"), ("delete", "deleted"))
            if self.counts[a]
        ]
        if not parts:
            parts = ["no changes"]
        return f"Imported {self.filename}: {', '.join(parts)}"

    def fingerprint(self):
        """What the apply must find again for a previewed upload to still be valid: the
        counts, the sampled changes and the checks' impact (another change in between
        alters at least one of them, or changes nothing the import does)."""
        payload = {
            "counts": self.counts,
            "errors": self.errors,
            "rows": {
                a: [(r.line, r.action, r.label, r.changes) for r in rows]
                for a, rows in sorted(self.rows.items())
            },
            "checks": [(c.check_id, c.before, c.after) for c in self.check_changes],
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self):
        """The preview as JSON (API, command --json)."""
        return {
            "kind": self.kind,
            "mode": self.mode,
            "file": self.filename,
            "applied": self.applied,
            "counts": {**self.counts, "error": self.error_rows},
            "file_error": self.file_error or None,
            "errors": [
                {"line": line, "column": column or None, "message": message}
                for line, column, message in self.errors
            ],
            "errors_total": self.error_total,
            "changes": {
                action: [
                    {
                        "line": r.line,
                        "row": r.label,
                        "changes": [
                            {"column": c, "old": old, "new": new} for c, old, new in r.changes
                        ],
                    }
                    for r in rows
                ]
                for action, rows in self.rows.items()
            },
            "checks": [
                {
                    "id": c.check_id,
                    "name": c.name,
                    "before": c.before,
                    "after": c.after,
                    "passed_before": c.passed_before,
                    "passed_after": c.passed_after,
                }
                for c in self.check_changes
            ],
            "run": self.run_id,
        }


# --- staging -----------------------------------------------------------------------------


@dataclass
class Context:
    tenant: object
    user: object
    mode: str
    rate_plan: object = None
    reason: str = ""  # history_change_reason of every record the import writes
    cache: dict = field(default_factory=dict)
    #: False for a preview: what is staged is rolled back, so bulk writes may leave out
    #: the history records no one will read (the decisions read the routing tables only).
    apply: bool = True


def diff(columns, before, after, present):
    """[(column, old text, new text)] for the columns of the file whose value changes."""
    out = []
    for name in columns:
        if name not in present:
            continue
        old, new = before.get(name), after.get(name)
        if _same(old, new):
            continue
        out.append((name, cell(old), cell(new)))
    return out


def _same(a, b):
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return sorted(map(str, a or ())) == sorted(map(str, b or ()))
    if a in (None, "") and b in (None, ""):
        return True
    return a == b


def protected_message(exc: ProtectedError, name: str) -> str:
    used_by = sorted({str(o) for o in exc.protected_objects})
    more = f" and {len(used_by) - 5} more" if len(used_by) > 5 else ""
    return f"Not deleted: “{name}” is still used by {', '.join(used_by[:5])}{more}."


def saved(save):
    """Run ``save()`` in a savepoint: False when the database refused it (an IntegrityError:
    a concurrent write the form could not see), the import going on."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        return False
    return True


def check_header(kind, table: Table, result: ImportResult) -> bool:
    names = [c.name for c in kind.columns]
    unknown = [h for h in table.header if h and h not in names]
    duplicated = sorted({h for h in table.header if h and table.header.count(h) > 1})
    missing = [n for n in names if n not in table.header and n not in kind.optional_columns]
    problems = []
    if unknown:
        problems.append("unknown column(s) " + ", ".join(unknown))
    if duplicated:
        problems.append("column(s) named twice: " + ", ".join(duplicated))
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if problems:
        result.file_failed(
            f"Line 1 (header): {'; '.join(problems)}. The {kind.plural} columns are: "
            f"{', '.join(names)}"
            + (
                f" ({', '.join(sorted(kind.optional_columns))} optional)."
                if kind.optional_columns
                else "."
            )
        )
        return False
    return True


def rows_as_dicts(table: Table):
    header = table.header
    for line, cells in table.rows:
        values = {}
        for i, name in enumerate(header):
            if name:
                values[name] = cells[i] if i < len(cells) else ""
        extra = [c for c in cells[len(header) :] if str(c).strip()]
        yield line, values, extra


# --- routing checks ----------------------------------------------------------------------


def _check_outcomes(tenant):
    out = {}
    for check in checks_queryset(RoutingCheck.objects.filter(tenant=tenant)):
        try:
            decision = decide(check)
        except IngressError as exc:
            out[check.pk] = (check.name, f"not run: {exc}", False)
            continue
        if decision.routed:
            text = f"routed via {decision.rule.display if decision.rule else '?'}"
        else:
            text = decision.summary  # "Rejected: no route → 404"
        out[check.pk] = (check.name, text, not differences(check, decision))
    return out


def check_changes(before, after):
    out = []
    for pk, (name, text, passed) in after.items():
        old = before.get(pk)
        if old is None:
            continue
        if old[1] != text or old[2] != passed:
            out.append(CheckChange(pk, name, old[1], text, old[2], passed))
    return sorted(out, key=lambda c: (c.name, c.check_id))


# --- the one path ------------------------------------------------------------------------


def run_import(
    tenant,
    kind,
    filename,
    data,
    *,
    mode=DEFAULT_MODE,
    rate_plan=None,
    apply=False,
    user=None,
    expect=None,
):
    """Stage ``data`` (the file's bytes) as rows of ``kind`` for ``tenant``; roll back unless
    ``apply`` and there is no error. ``expect`` (a preview's fingerprint) makes the apply
    refuse when the preview no longer holds. Returns an :class:`ImportResult`."""
    result = ImportResult(kind.key, mode, filename)
    if mode not in MODES:
        result.file_failed(f"Unknown mode “{mode}”: use one of {', '.join(MODES)}.")
        return result
    try:
        table = read_table(filename, data)
    except FileError as exc:
        result.file_failed(str(exc))
        return result
    if not check_header(kind, table, result):
        return result
    ctx = Context(
        tenant,
        user,
        mode,
        rate_plan,
        reason=f"{IMPORT_REASON}{uuid.uuid4().hex[:12]}",
        apply=apply,
    )
    token = _current_reason.set(ctx.reason)
    try:
        return _run(tenant, kind, filename, ctx, table, result, apply, user, mode, expect)
    finally:
        _current_reason.reset(token)


def _run(tenant, kind, filename, ctx, table, result, apply, user, mode, expect):
    with transaction.atomic():
        _lock_tenant(tenant)
        before = _check_outcomes(tenant)
        kind.stage(ctx, table, result)
        if result.ok:
            result.check_changes = check_changes(before, _check_outcomes(tenant))
        if not result.ok or not apply:
            transaction.set_rollback(True)
            return result
        if expect is not None and expect != result.fingerprint():
            transaction.set_rollback(True)
            result.file_failed("The data changed since this file was previewed: preview it again.")
            return result
        run = ImportRun.objects.create(
            tenant=tenant,
            user=user if getattr(user, "is_authenticated", False) else None,
            kind=kind.key,
            filename=filename[:200],
            mode=mode,
            summary=result.summary()[:300],
            counts=result.counts,
            reason=ctx.reason,
        )
        result.applied, result.run_id = True, run.pk
    return result


def _lock_tenant(tenant):
    """Imports of one tenant run one at a time (a second waits for the first): two imports
    staging the same rows would otherwise fail each other's unique checks half-way."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x1A7, tenant.pk])
