"""``manage.py import_data KIND FILE --tenant SLUG [--mode add|update|replace]
[--rate-plan NAME] [--dry-run] [--json]``: a bulk import (SPEC §8) from the command line.

Prints the preview — counts, every error as ``line N, column C: message``, the rows that
change (old → new) and the saved routing checks whose outcome would change
(``name: before → after``) — then applies it unless ``--dry-run``. The one code path is
:func:`vmgate.imports.run_import`, the same as the page's and the API's.

Exit status: 0 when it applied (with ``--dry-run``: would apply) without errors; 1 when any
row (or the file's content: encoding, header) has an error, and then nothing is written;
2 for a usage error (unknown kind, mode or tenant, a missing or unknown rate plan for rates
or a rate plan for another kind, a file that cannot be opened). ``FILE`` ``-`` reads
standard input.
"""

import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from customers.models import RatePlan
from vmgate.import_kinds import KINDS
from vmgate.imports import DEFAULT_MODE, MAX_BYTES, MODES, ImportResult, run_import, too_large
from vmgate.models import Tenant
from vmgate.tenancy import scoped

USAGE = 2
ROW_ERRORS = 1
ACTIONS = ("create", "update", "delete", "unchanged")


def usage_error(message):
    return CommandError(message, returncode=USAGE)


def error_line(line, column, message):
    """``line 3, column country: …`` (no line: a row absent from the file; no column: the
    row as a whole)."""
    where = f"line {line}" if line is not None else "not in the file"
    if column:
        where += f", column {column}"
    return f"{where}: {message}"


def preview_lines(result, *, dry_run):
    """The preview as text lines."""
    verdict = (
        "applied"
        if result.applied
        else "dry run, nothing written"
        if result.ok
        else "errors, nothing written"
    )
    yield f"{result.filename}: {result.kind}, mode {result.mode} ({verdict})"
    counts = ", ".join(f"{result.counts[a]:,} {a}" for a in ACTIONS)
    yield f"Counts: {counts}, {result.error_rows:,} error"
    if result.file_error or result.errors:
        yield f"Errors ({result.error_total:,}):"
        if result.file_error:
            yield f"  file: {result.file_error}"
        for line, column, message in result.errors:
            yield "  " + error_line(line, column, message)
        listed = len(result.errors) + (1 if result.file_error else 0)
        if result.error_total > listed:
            yield f"  … and {result.error_total - listed:,} more"
    for action in ACTIONS:
        if action == "unchanged":
            continue
        rows = result.rows.get(action, [])
        if not rows:
            continue
        yield f"{action.capitalize()} ({result.counts[action]:,}):"
        for row in rows:
            where = f"line {row.line}: " if row.line is not None else ""
            yield f"  {where}{row.label}"
            for column, old, new in row.changes:
                yield f"    {column}: {old or '(empty)'} → {new or '(empty)'}"
        if result.counts[action] > len(rows):
            yield f"  … and {result.counts[action] - len(rows):,} more"
    if result.check_changes:
        changes = "changed" if result.applied else "would change"
        yield f"Routing checks whose outcome {changes} ({len(result.check_changes)}):"
        for check in result.check_changes:
            passed = (
                " (passed → fails)"
                if check.passed_before and not check.passed_after
                else " (fails → passes)"
                if check.passed_after and not check.passed_before
                else ""
            )
            yield f"  {check.name}: {check.before} → {check.after}{passed}"
    elif result.ok:
        yield "Routing checks: no outcome changes."
    if result.applied:
        yield result.summary()
    elif result.ok and dry_run:
        yield "Dry run: nothing written (without --dry-run this import would apply)."


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of one kind into a tenant: print the preview (counts, "
        "errors, changes, routing checks whose outcome changes) and apply it unless "
        "--dry-run. Exit 0 applied (or would apply), 1 row errors (nothing written), "
        "2 usage error."
    )
    # call_command(..., stdin=<binary file>) stands in for standard input with FILE "-".
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_error = parser.error

        def error(message):
            # argparse exits 2 on the command line; called from code, Django's parser raises
            # a CommandError with status 1 — a usage error is 2 either way.
            if parser.called_from_command_line:
                argparse_error(message)
            raise usage_error(f"Error: {message}")

        parser.error = error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
        parser.add_argument("file", metavar="FILE", help="CSV or XLSX file; - reads stdin")
        parser.add_argument("--tenant", metavar="SLUG", help="the tenant to import into")
        parser.add_argument(
            "--mode",
            default=DEFAULT_MODE,
            help=f"{' | '.join(MODES)} (default {DEFAULT_MODE})",
        )
        parser.add_argument(
            "--rate-plan", metavar="NAME", help="rates only: the tenant's rate plan, by name"
        )
        parser.add_argument("--dry-run", action="store_true", help="preview only: write nothing")
        parser.add_argument(
            "--json", action="store_true", help="print the preview as JSON (the API's shape)"
        )

    def handle(self, *args, **options):
        kind = KINDS.get(options["kind"])
        if kind is None:
            raise usage_error(f"Unknown kind “{options['kind']}”: use one of {', '.join(KINDS)}.")
        mode = options["mode"]
        if mode not in MODES:
            raise usage_error(f"Unknown mode “{mode}”: use one of {', '.join(MODES)}.")
        tenant = self.tenant(options["tenant"])
        rate_plan = self.rate_plan(kind, tenant, options["rate_plan"])
        filename, data, size = self.read(options["file"], options.get("stdin"))
        dry_run = options["dry_run"]
        if size > MAX_BYTES:  # said without reading (or keeping) the rest of it
            result = ImportResult(kind.key, mode, filename)
            result.file_failed(too_large(size))
        else:
            result = run_import(
                tenant, kind, filename, data, mode=mode, rate_plan=rate_plan, apply=not dry_run
            )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        else:
            for line in preview_lines(result, dry_run=dry_run):
                self.stdout.write(line)
        if not result.ok:
            raise SystemExit(ROW_ERRORS)

    @staticmethod
    def tenant(slug):
        if not slug:
            raise usage_error("Name the tenant: --tenant SLUG.")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise usage_error(f"No tenant with slug “{slug}”.")
        return tenant

    @staticmethod
    def rate_plan(kind, tenant, name):
        if not kind.needs_rate_plan:
            if name:
                raise usage_error(
                    f"--rate-plan is for rates only; {kind.plural} do not go into a rate plan."
                )
            return None
        if not name:
            raise usage_error(f"{kind.plural.capitalize()} go into a rate plan: --rate-plan NAME.")
        plan = scoped(RatePlan, tenant).filter(name=name).first()
        if plan is None:
            raise usage_error(f"No rate plan “{name}” in tenant “{tenant.slug}”.")
        return plan

    @staticmethod
    def read(path, stdin=None):
        """(file name, bytes, size) of FILE, reading no more than one byte past the import's
        limit; ``-`` reads standard input."""
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(MAX_BYTES + 1)
            return "stdin", data, len(data)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                data = handle.read(MAX_BYTES + 1)
                return os.path.basename(path), data, max(size, len(data))
        except OSError as exc:
            raise usage_error(f"Cannot read {path}: {exc.strerror or exc}.") from exc
