"""Routing policy (SPEC §9), each rule written once, with no ORM: translation rules (their
safety check at save and their application), number-list matching and schedule windows.

The models validate through these functions when a row is saved (forms, admin, API and
imports all reach ``full_clean()``), the index compiles the saved rows through them, and
the decision steps, the translation set's test box and the schedule's week grid call them.

Regular expressions are operator input and Python's ``re`` backtracks, so a pattern is
refused at save unless the work of matching it is bounded by construction. The number a
pattern sees is at most 24 digits (a longer result of a rule is ``invalid_number`` before
another rule sees it), and :func:`choice_bound` counts the ways a pattern can split such a
number between its repetitions and alternatives: every backtracking path is one of them.
A pattern whose bound exceeds :data:`CHOICE_LIMIT` is refused with the reason (nested
repetition, a repeated alternation, too many open-ended repetitions in a row);
backreferences are refused outright. ``bench/route_bench.py`` measures the slowest
pattern that is still accepted.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from re import _constants as sre  # Python 3.11's names of the parsed pattern's opcodes
from re import _parser as sre_parse

#: The longest number a translation rule sees or may produce (SPEC §4).
NUMBER_MAX_DIGITS = 24
MATCH_MAX_LENGTH = 200
REPLACE_MAX_LENGTH = 100
#: The most backtracking paths an accepted pattern may have over a 24-digit number.
CHOICE_LIMIT = 5_000

_DIGITS = re.compile(r"[0-9]{1,24}")


class PolicyError(ValueError):
    """An operator's pattern, replacement, window or time zone that cannot be saved; the
    message says why, in an operator's words."""


# --- translation rules ------------------------------------------------------------------------


def is_number(value):
    """1–24 ASCII digits: what a translation must produce and a list entry must be."""
    return isinstance(value, str) and _DIGITS.fullmatch(value) is not None


def compile_match(pattern):
    """The compiled ``match`` of a translation rule, or :class:`PolicyError`."""
    if not isinstance(pattern, str) or not pattern:
        raise PolicyError("Enter a regular expression.")
    if len(pattern) > MATCH_MAX_LENGTH:
        raise PolicyError(
            f"At most {MATCH_MAX_LENGTH} characters are allowed (this one has {len(pattern)})."
        )
    if "\x00" in pattern:
        raise PolicyError("Null characters are not allowed.")
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise PolicyError(f"Not a valid regular expression: {exc}.") from exc
    bound = choice_bound(parsed.data)
    if bound > CHOICE_LIMIT:
        raise PolicyError(
            "This pattern can backtrack too much on a 24-digit number "
            f"(up to {bound:,} ways to try it; at most {CHOICE_LIMIT:,} are allowed): avoid "
            "nested repetition such as (0+)+, repeated alternatives such as (0|00)*, and "
            "several open-ended repetitions in a row."
        )
    return compiled


class _Refused(Exception):
    pass


def choice_bound(items):
    """How many ways a parsed pattern can match within one number (an upper bound): the
    product over a sequence, the sum over alternatives, and for a repetition the counts it
    may take times its body's ways each time. Backreferences raise PolicyError."""
    try:
        return _bound_seq(items)
    except _Refused as exc:
        raise PolicyError(str(exc)) from None


_CAP = 10**12


def _bound_seq(items):
    total = 1
    for op, av in items:
        total = min(total * _bound_item(op, av), _CAP)
    return total


def _bound_item(op, av):
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        raise _Refused("Backreferences such as \\1 or (?P=name) are not allowed in a match.")
    if op is sre.SUBPATTERN:
        return _bound_seq(av[-1])
    if op is sre.ATOMIC_GROUP:
        return _bound_seq(av)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return _bound_seq(av[1])
    if op is sre.BRANCH:
        return min(sum(_bound_seq(branch) for branch in av[1]), _CAP)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, body = av
        inner = _bound_seq(body)
        high = min(high, NUMBER_MAX_DIGITS)
        if low > high:
            return 1
        counts = high - low + 1
        if inner == 1:
            return counts
        return min(counts * inner**high, _CAP)
    return 1  # a literal, a class, an anchor: one way


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed replacement: literal digits and group references, in order."""

    parts: tuple  # of str (digits) and int | str (group number or name)

    def expand(self, m):
        out = []
        for part in self.parts:
            if part.__class__ is str:
                out.append(part)
            else:
                out.append(m.group(part.ref) or "")
        return "".join(out)


@dataclass(frozen=True, slots=True)
class _Group:
    ref: int | str


_REPLACE_TOKEN = re.compile(r"\\g<([^>]*)>|\\([0-9]{1,2})|\\(.?)|([^\\]+)", re.S)


def compile_replace(replace, compiled):
    """The :class:`Template` of a replacement for the compiled ``match``, or PolicyError:
    only digits and group references (``\\1``, ``\\g<1>``, ``\\g<name>``) of groups the
    match has; anything else would make a result that is not a number."""
    if not isinstance(replace, str):
        raise PolicyError("Enter a replacement.")
    if len(replace) > REPLACE_MAX_LENGTH:
        raise PolicyError(f"At most {REPLACE_MAX_LENGTH} characters are allowed.")
    parts = []
    for m in _REPLACE_TOKEN.finditer(replace):
        name, number, other, literal = m.groups()
        if literal is not None:
            bad = sorted({ch for ch in literal if ch not in "0123456789"})
            if bad:
                shown = ", ".join(repr(ch) for ch in bad[:5])
                raise PolicyError(
                    f"The result must be digits only: {shown} would make it something else."
                )
            parts.append(literal)
            continue
        if name is not None:
            ref = int(name) if name.isdigit() and name.isascii() else name
        elif number is not None:
            ref = int(number)
        else:
            raise PolicyError(
                f"Unknown escape \\{other}: use \\1 or \\g<name> for a group, digits otherwise."
            )
        if isinstance(ref, int):
            if ref == 0 or ref > compiled.groups:
                raise PolicyError(
                    f"The match has no group {ref} "
                    f"(it has {compiled.groups} group{'s' if compiled.groups != 1 else ''})."
                )
        elif ref not in compiled.groupindex:
            raise PolicyError(f"The match has no group named “{ref}”.")
        parts.append(_Group(ref))
    return Template(tuple(parts))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One TranslationRule ready to apply."""

    id: int
    position: int
    match: str
    replace: str
    stop: bool
    pattern: re.Pattern
    template: Template


@lru_cache(maxsize=4096)
def compile_rule(rule_id, position, match, replace, stop):
    """A saved rule compiled (rows were checked at save; a row that no longer compiles —
    edited in the database by hand — never matches rather than failing a decision)."""
    try:
        pattern = compile_match(match)
        template = compile_replace(replace, pattern)
    except PolicyError:
        pattern, template = re.compile(r"(?!)"), Template(())
    return CompiledRule(rule_id, position, match, replace, bool(stop), pattern, template)


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One rule tried on a number: whether it matched and what it made."""

    rule: CompiledRule
    before: str
    matched: bool
    after: str = ""


def translate(rules, number, tried=None):
    """Apply ``rules`` (CompiledRules in position order) to ``number`` (SPEC §9).

    The first rule whose ``match`` matches the whole number replaces it; with ``stop`` the
    set ends, else the following rules see the new number. Returns ``(result, fired)``:
    ``fired`` is the list of rules that replaced, ``result`` None when a replacement is
    not 1–24 digits (``invalid_number``; no later rule sees it). ``tried``, a list, gets
    a :class:`Rewrite` for every rule tried (the test box and explanations show them)."""
    fired = []
    for rule in rules:
        m = rule.pattern.fullmatch(number)
        if m is None:
            if tried is not None:
                tried.append(Rewrite(rule, number, False))
            continue
        after = rule.template.expand(m)
        if tried is not None:
            tried.append(Rewrite(rule, number, True, after))
        fired.append((rule, number, after))
        if not is_number(after):
            return None, fired
        number = after
        if rule.stop:
            break
    return number, fired


# --- number lists ---------------------------------------------------------------------------


class ListMatcher:
    """A number list's entries, ready to check a number: exact values in a set, prefixes
    in a set probed once per prefix length present (≤ 24 probes, whatever the list's size)."""

    __slots__ = ("exact", "prefixes", "lengths")

    def __init__(self, entries):
        exact, prefixes = set(), set()
        for value, match in entries:
            (exact if match == "exact" else prefixes).add(value)
        self.exact, self.prefixes = frozenset(exact), frozenset(prefixes)
        self.lengths = tuple(sorted({len(p) for p in prefixes}, reverse=True))

    def find(self, number):
        """The entry matching ``number`` as ``(value, "exact" | "prefix")``, or None (an
        exact entry first, then the longest prefix)."""
        if number in self.exact:
            return number, "exact"
        n = len(number)
        prefixes = self.prefixes
        for length in self.lengths:
            if length <= n and number[:length] in prefixes:
                return number[:length], "prefix"
        return None


def list_verdict(kind, applies_to, matcher, called, calling):
    """SPEC §9 step 5b for one list: ``(blocks, what)`` where ``what`` is the entry that
    matched or None. A ``calling`` list without a calling number: deny does not match,
    allow rejects."""
    number = called if applies_to == "called" else calling
    found = matcher.find(number) if number else None
    if kind == "deny":
        return found is not None, found
    return found is None, found


# --- schedules ------------------------------------------------------------------------------

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=1)
def timezone_names():
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1024)
def zone(name):
    """The ZoneInfo of an IANA name, or PolicyError."""
    if not isinstance(name, str) or name not in timezone_names():
        raise PolicyError(f"“{name}” is not an IANA time zone such as Europe/Berlin.")
    return zoneinfo.ZoneInfo(name)


def check_weekdays(value):
    """A window's weekdays: a non-empty list of distinct ints 1–7 (Monday = 1)."""
    if not isinstance(value, list | tuple) or not value:
        raise PolicyError("Choose at least one weekday.")
    for day in value:
        if day.__class__ is not int or not 1 <= day <= 7:
            raise PolicyError("Weekdays are numbers 1–7 (Monday = 1).")
    if len(set(value)) != len(value):
        raise PolicyError("A weekday is listed twice.")
    return sorted(value)


def window_open(days, start, end, weekday, clock):
    """Whether a window is open at local ``weekday`` (1–7) and ``clock`` (a time). A window
    whose ``end`` ≤ ``start`` runs past midnight and counts for the day it started on."""
    if start < end:
        return weekday in days and start <= clock < end
    if weekday in days and clock >= start:
        return True
    return (7 if weekday == 1 else weekday - 1) in days and clock < end


@dataclass(frozen=True, slots=True)
class CompiledSchedule:
    """A schedule ready to ask: its zone and windows as ``(days, start, end)``."""

    id: int
    name: str
    timezone: str
    windows: tuple

    def local(self, at):
        """``at`` (an aware datetime) in the schedule's time zone, or None (a zone this
        machine does not know)."""
        try:
            return at.astimezone(zone(self.timezone))
        except PolicyError:
            return None

    def is_open(self, at):
        """Whether the schedule is open at ``at`` (an aware datetime), in its time zone:
        local wall-clock time, so daylight-saving changes follow the zone."""
        local = self.local(at)
        if local is None:
            return False
        weekday, clock = local.isoweekday(), local.time().replace(tzinfo=None)
        return any(window_open(d, s, e, weekday, clock) for d, s, e in self.windows)


def compile_schedule(schedule_id, name, timezone, windows):
    """``windows``: ``(weekdays, start, end)`` rows."""
    return CompiledSchedule(
        schedule_id,
        name,
        timezone,
        tuple(
            (frozenset(d for d in days if d.__class__ is int), start, end)
            for days, start, end in windows
            if isinstance(days, list) and start is not None and end is not None
        ),
    )


def week_grid(schedule, step_minutes=60):
    """Rows of the week grid a schedule's page shows: for each weekday, one bool per
    ``step_minutes`` slot of local time (is the schedule open at the slot's start)."""
    slots = range(0, 24 * 60, step_minutes)
    rows = []
    for weekday in range(1, 8):
        row = []
        for minute in slots:
            clock = time(minute // 60, minute % 60)
            row.append(any(window_open(d, s, e, weekday, clock) for d, s, e in schedule.windows))
        rows.append((WEEKDAY_NAMES[weekday - 1], row))
    return rows
