"""SPEC §5, written once: the routing decision as an ordered list of steps over a data
source, with an optional trace.

:data:`STEPS` lists the steps in SPEC order; :func:`decide` runs them until one rejects the
call. Each step reads the data source (``routing.engine.index.TenantIndex``: snapshots of
trunks, customers, links, clients and rates, built from the database and kept current from
the change feed) and never the ORM.

Live calls and explained calls run this same function over the same source. ``explain``
only adds a :class:`Trace`, which records each step, every candidate rule with why it lost
and every skipped target; it reads what the steps computed and decides nothing. For live
calls the trace is None and the recording is skipped; an explained decision never advances
the round-robin of priority rules (SPEC §5), every live one does.
"""

from __future__ import annotations

import heapq
import ipaddress
import re
import threading

from customers.models import balance_refusal
from routing.dialplan import CATCH_ALL
from routing.engine.refs import (
    CUSTOMER_BLOCKED,
    INSUFFICIENT_BALANCE,
    INVALID_NUMBER,
    NO_RATE,
    NO_ROUTE,
    NO_TARGET,
    NUMBER_BLOCKED,
    PRIORITY,
    READY,
    REJECTED,
    ROUTED,
    SIP_ANSWERS,
    TECH_PREFIX_MISMATCH,
    TRUNK_DISABLED,
    UNKNOWN_SOURCE,
    WEIGHT,
    CandidateResult,
    DialpeerRef,
    IngressError,
    LinkRef,
    ListRef,
    RewriteRef,
    RouteDecision,
    RouteTarget,
    RuleRef,
    SkippedTarget,
    Step,
    TargetSpec,
    iso_utc,
)
from routing.policy import list_verdict, translate

#: How many candidates whose code does not match the number an explanation lists.
EXPLAIN_NON_MATCHING_LIMIT = 200
#: Why a rule is not a candidate, or a target is skipped, at a time its schedule is shut.
OUTSIDE_SCHEDULE = "outside its schedule"


def finish(decision, reason):
    """Set the outcome, reason and SIP answer of ``decision`` from ``reason``."""
    decision.outcome = ROUTED if reason == ROUTED else REJECTED
    decision.reason = reason
    decision.sip_code, decision.sip_reason = SIP_ANSWERS[reason]
    return decision


# --- numbers (SPEC §4) ---------------------------------------------------------------------

# Explicit ASCII classes: ``\d`` would accept Arabic-Indic and full-width digits.
_RAW_NUMBER = re.compile(r"[0-9#*+]{1,40}")
_STRIPPED_NUMBER = re.compile(r"\+?([0-9]{1,24})")
MAX_CODE_LENGTH = 15


def raw_number_ok(raw):
    """Step 1, first half: only ``0-9 # * +``, 1–40 characters."""
    return isinstance(raw, str) and _RAW_NUMBER.fullmatch(raw) is not None


def strip_tech_prefix(raw, tech_prefix):
    """What is left after removing ``tech_prefix`` once from the start, or None when the
    raw number does not start with it."""
    if not raw.startswith(tech_prefix):
        return None
    return raw[len(tech_prefix) :]


def stripped_digits(rest):
    """Step 1, second half: an optional ``+`` then 1–24 digits; returns the digits (what
    codes are matched against) or None when the rest is not a number."""
    m = _STRIPPED_NUMBER.fullmatch(rest)
    return m.group(1) if m else None


def candidate_prefixes(number, max_length=MAX_CODE_LENGTH):
    """Every code that can match ``number``: its prefixes, longest first, down to ``""``."""
    top = min(len(number), max_length)
    return [number[:n] for n in range(top, -1, -1)]


def code_matches(code, number):
    return number.startswith(code)


def _raw_problem(raw):
    if not isinstance(raw, str):
        return "the number is not text"
    if not raw:
        return "the number is empty"
    if len(raw) > 40:
        return f"{len(raw)} characters; at most 40 are allowed"
    bad = sorted({ch for ch in raw if ch not in "0123456789#*+"})
    shown = ", ".join(repr(ch) for ch in bad[:5])
    return f"characters other than 0-9 # * +: {shown}"


# --- balance (step 5) ----------------------------------------------------------------------


def _balance_text(customer, currency):
    if customer.billing_type == "prepaid":
        return f"prepaid, balance {customer.balance:.2f} {currency} (needs > 0)"
    if customer.credit_unlimited:
        return f"postpaid, unlimited credit (balance {customer.balance:.2f} {currency})"
    text = f"postpaid, balance {customer.balance:.2f} + credit {customer.credit_limit:.2f}"
    if customer.overdraft_allowed:
        text += f" + overdraft {customer.overdraft_limit:.2f}"
    return text + f" {currency} (needs > 0)"


# --- ingress by source IP (steps 0 and 2) --------------------------------------------------

_parsed_ips = {}


def parse_source_ip(value):
    """An ``ipaddress`` address; IPv4-mapped IPv6 becomes IPv4. Raises IngressError.
    (A SIP edge sends from a handful of addresses: valid ones are remembered.)"""
    ip = _parsed_ips.get(value) if isinstance(value, str) else None
    if ip is not None:
        return ip
    ip = _parse_source_ip(value)
    if len(_parsed_ips) >= 10_000:
        _parsed_ips.clear()
    _parsed_ips[value] = ip
    return ip


def _parse_source_ip(value):
    if not isinstance(value, str) or not value.strip() or "%" in value or "\x00" in value:
        raise IngressError("Enter a valid IPv4 or IPv6 address.")
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError as exc:
        raise IngressError("Enter a valid IPv4 or IPv6 address.") from exc
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def pick_ingress_trunk(raw, containing):
    """Step 2b: among ``containing`` — ``(trunk_id, tech_prefix, prefixlen)`` for every
    trunk with a network containing the source IP, ``prefixlen`` its most specific one —
    the trunks whose tech prefix starts the raw number; the longest tech prefix wins, then
    the most specific network, then the lowest id. Returns the trunk id or None."""
    best = None
    for trunk_id, tech_prefix, prefixlen in containing:
        if not raw.startswith(tech_prefix):
            continue
        key = (-len(tech_prefix), -prefixlen, trunk_id)
        if best is None or key < best:
            best = key
    return best[2] if best else None


# --- candidates (steps 6 and 7) ------------------------------------------------------------


def ineligibility(link, trunk_id, customer_id, is_open=None):
    """Why a linked rule cannot carry this call at all (step 6), or "" when it can.
    ``is_open(schedule_id)`` says whether a schedule is open at the call's time (None:
    every schedule is)."""
    if not link.dialpeer_active:
        return "dialpeer inactive"
    if link.customer_id is not None and link.customer_id != customer_id:
        return "dialpeer is for another origin customer"
    if not link.rule_active:
        return "rule inactive"
    if link.rule_trunk_id is not None and link.rule_trunk_id != trunk_id:
        return "rule scoped to another trunk"
    if link.schedule_id is not None and is_open is not None and not is_open(link.schedule_id):
        return OUTSIDE_SCHEDULE
    return ""


def rank_key(link):
    """Order among eligible links with the same code: trunk-scoped before unscoped, then
    the lowest dialpeer id (a longer code always wins first: see :func:`pick_link`)."""
    return (0 if link.rule_trunk_id else 1, link.dialpeer_id)


def links_at(value):
    """A route table's value as a tuple of links: a code with one link (most codes) holds
    the bare LinkRef, one memory access fewer for each probe of a live decision."""
    return (value,) if value.__class__ is LinkRef else value


def ranked(links):
    """``links`` (all of one code) as the tuple :func:`pick_link` reads: in
    :func:`rank_key` order, so the first eligible one is the winner. A code with several
    links gets its tuple from this in every table (the index's and :func:`links_table`'s);
    a lone link is stored bare (:func:`links_at`)."""
    return tuple(sorted(links, key=rank_key)) if len(links) > 1 else tuple(links)


def pick_link(number, table, lengths, trunk_id, customer_id, is_open=None):
    """Steps 6–7: the winning link for ``number``, or None.

    ``table`` maps a code to the links with that code (every dialpeer of the trunk,
    whatever its state), each tuple in :func:`ranked` order; ``lengths`` are the code
    lengths present, longest first. Each probed code's links are filtered for eligibility
    (:func:`ineligibility`, inlined) *before* ranking: the longest code with an eligible
    link wins, ties by :func:`rank_key` (the first eligible link of the ranked tuple).
    A rule with a schedule is eligible only while ``is_open(schedule_id)`` (SPEC §9)."""
    n = len(number)
    get = table.get
    for length in lengths:
        if length > n:
            continue
        links = get(number[:length])
        if links is None:
            continue
        if links.__class__ is LinkRef:  # links_at, inlined
            links = (links,)
        for link in links:
            if (
                link.dialpeer_active
                and link.rule_active
                and (link.customer_id is None or link.customer_id == customer_id)
                and (link.rule_trunk_id is None or link.rule_trunk_id == trunk_id)
                and (link.schedule_id is None or is_open is None or is_open(link.schedule_id))
            ):
                return link
    return None


def links_table(links):
    """``(code → links, lengths descending)`` from any iterable of links."""
    table = {}
    for link in links:
        table.setdefault(link.code, []).append(link)
    table = {code: found[0] if len(found) == 1 else ranked(found) for code, found in table.items()}
    return table, tuple(sorted({len(c) for c in table}, reverse=True))


def why_lost(link, winner, number, trunk_id, customer_id, winner_display, is_open=None):
    """Why ``link`` did not win against ``winner`` (None: no link won)."""
    why = ineligibility(link, trunk_id, customer_id, is_open)
    if why:
        return why
    if not code_matches(link.code, number):
        return "code does not match"
    if len(link.code) < len(winner.code):
        return f"shorter than the winner ({winner_display})"
    if winner.rule_trunk_id and not link.rule_trunk_id:
        return "same code as the winner, which is scoped to this trunk"
    return f"same code as the winner, whose dialpeer has a lower id (#{winner.dialpeer_id})"


def rank_candidates(number, links, trunk_id, customer_id, names=None, is_open=None):
    """Steps 6–7 over a plain list of links, with every loser's reason: the winner comes
    from :func:`pick_link` (what live calls run). Returns ``(winner or None, results)``."""
    table, lengths = links_table(links)
    winner = pick_link(number, table, lengths, trunk_id, customer_id, is_open)
    results = classify(links, winner, number, trunk_id, customer_id, names or {}, is_open)
    return winner, results


def classify(links, winner, number, trunk_id, customer_id, names, is_open=None):
    """CandidateResults for ``links`` (won / why lost), in the explanation's order."""
    winner_display = None
    if winner is not None:
        winner_display = _rule_ref(winner, names).display
    out = []
    for link in links:
        if link is winner:
            out.append(
                CandidateResult(_dialpeer_ref(link, names), _rule_ref(link, names), True, "")
            )
            continue
        if winner is None:
            why = ineligibility(link, trunk_id, customer_id, is_open) or (
                "code does not match" if not code_matches(link.code, number) else ""
            )
        else:
            why = why_lost(link, winner, number, trunk_id, customer_id, winner_display, is_open)
        out.append(CandidateResult(_dialpeer_ref(link, names), _rule_ref(link, names), False, why))
    out.sort(key=lambda r: (not r.won, -len(r.rule.code), r.rule.code, r.dialpeer.id))
    return out


def _dialpeer_ref(link, names):
    name = names.get(("dp", link.dialpeer_id), f"#{link.dialpeer_id}")
    return DialpeerRef(
        link.dialpeer_id, name, link.dialpeer_active, link.customer_id, None, link.rule_id
    )


def _rule_ref(link, names):
    label, assignment = names.get(("rule", link.rule_id), ("", WEIGHT))
    return RuleRef(link.rule_id, link.code, label, assignment, link.rule_trunk_id, link.rule_active)


def longest_match(number, table, lengths):
    """Probe ``table`` (code → value) with the prefixes of ``number`` whose lengths occur
    in ``lengths`` (descending). Returns ``(code, value)`` or None."""
    n = len(number)
    get = table.get
    for length in lengths:
        if length <= n:
            value = get(number[:length])
            if value is not None:
                return number[:length], value
    return None


# --- targets (step 8) ----------------------------------------------------------------------

_STATUS_TEXT = {"no_dongle": "has no dongle", "off": "is off"}


def _not_ready(client):
    return f"client {client.name} {_STATUS_TEXT.get(client.status, 'is ' + client.status)}"


def _entry(t, client, slot):
    return (t, client, slot, RouteTarget(client, slot, t.id, t.kind, t.priority, t.weight))


def expand_targets(targets, clients, slots, network_clients, skipped_too=True, is_open=None):
    """Usable ``(spec, client, slot, RouteTarget)`` entries of a rule's targets plus the
    skipped ones (built only with ``skipped_too``: a live decision does not show them).

    A network target expands to its ``ready`` clients (in client id order); a client target
    counts when the client is ready; a SIM-slot target when the slot is enabled and its
    client ready; a target with a schedule only while ``is_open(schedule_id)``.
    ``targets`` are TargetSpecs; the lookups map ids to refs."""
    entries, skipped = [], []

    def skip(t, why):
        if skipped_too:
            skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, why))

    for t in sorted(targets, key=_spec_order) if len(targets) > 1 else targets:
        if not t.is_active:
            skip(t, "target inactive")
            continue
        if t.schedule_id is not None and is_open is not None and not is_open(t.schedule_id):
            skip(t, OUTSIDE_SCHEDULE)
            continue
        if t.kind == "network":
            members = [clients[c] for c in network_clients.get(t.ref_id, ()) if c in clients]
            if not members:
                skip(t, "network has no clients")
                continue
            for client in members:
                if client.status == READY:
                    entries.append(_entry(t, client, None))
                elif skipped_too:
                    skip(t, _not_ready(client))
            continue
        if t.kind == "client":
            client = clients.get(t.ref_id)
            if client is None:
                skip(t, "client missing")
            elif client.status != READY:
                skip(t, _not_ready(client))
            else:
                entries.append(_entry(t, client, None))
            continue
        slot = slots.get(t.ref_id)
        client = clients.get(slot.client_id) if slot else None
        if slot is None or client is None:
            skip(t, "SIM slot missing")
        elif not slot.enabled:
            skip(t, "SIM slot disabled")
        elif client.status != READY:
            skip(t, _not_ready(client))
        else:
            entries.append(_entry(t, client, slot))
    return entries, skipped


def _spec_order(t):
    return (t.priority, t.id)


def weight_order(entry):
    """Step 8 by weight: least ``active_calls`` first, ties → higher weight, then client id
    (then target order). ``entry`` is ``(spec, client, …)``."""
    t, client = entry[0], entry[1]
    return (client.active_calls, -t.weight, client.id, t.priority, t.id)


_ONE_TARGET = TargetSpec(0, "network", 0)


def network_by_weight(clients):
    """The ready clients of one network target in step 8's weight order (every entry shares
    the target, so the order is the clients')."""
    return tuple(
        sorted(
            (c for c in clients if c.status == READY),
            key=lambda c: weight_order((_ONE_TARGET, c)),
        )
    )


def order_targets(assignment, entries, rotation=None):
    """Order usable entries (SPEC §5 step 8) and drop repeated clients.

    ``weight``: least ``active_calls`` first, ties → higher weight, then client id (then
    target order). ``priority``: lower priority first; within one priority level the
    entries are rotated by ``rotation(priority, n)`` (round-robin offset; None = 0).
    A client reached through several targets appears once, at its best position.
    Returns ``(ordered RouteTargets, duplicates as SkippedTargets)``."""
    if len(entries) < 2:  # the common case: nothing to order, no duplicate
        return [e[3] for e in entries], []
    if assignment == PRIORITY:
        levels = {}
        for e in entries:
            levels.setdefault(e[0].priority, []).append(e)
        ranked = []
        for prio in sorted(levels):
            level = levels[prio]
            k = rotation(prio, len(level)) % len(level) if rotation and len(level) > 1 else 0
            ranked.extend(level[k:] + level[:k] if k else level)
    else:
        ranked = sorted(entries, key=weight_order)
    ordered, dupes, placed = [], [], {}
    for t, client, _, target in ranked:
        if client.id in placed:
            dupes.append(
                SkippedTarget(
                    t.id,
                    t.kind,
                    t.ref_name,
                    f"client {client.name} already placed by target #{placed[client.id]}",
                )
            )
            continue
        placed[client.id] = t.id
        ordered.append(target)
    return ordered, dupes


class RoundRobin:
    """Per-process round-robin offsets for (tenant, rule, priority level)."""

    def __init__(self):
        self._counters = {}
        self._lock = threading.Lock()

    def offset(self, key):
        return self._counters.get(key, 0)

    def advance(self, keys):
        counters = self._counters
        for key in keys:
            # A lost increment under a thread race only repeats one rotation step.
            counters[key] = counters.get(key, 0) + 1

    def reset(self):
        with self._lock:
            self._counters.clear()


round_robin = RoundRobin()


def rule_targets(source, detail, rotation, skipped_too=False, is_open=None):
    """Step 8 for a rule: ``(ordered targets, skipped)``, from the rule's targets and the
    clients' state as the index holds them now (nothing is kept per rule between calls).

    A live decision for a rule whose one target is a network, by weight, takes the
    network's ready clients already in weight order (``source.network_by_weight``: kept
    per network until a client changes, so its size is the data's, not the traffic's);
    the explanation, which also lists what was skipped, expands the same target in full
    (tests/routing/test_route_explain.py compares the two)."""
    specs = detail.specs
    if not skipped_too and len(specs) == 1 and detail.ref.assignment != PRIORITY:
        t = specs[0]
        if t.kind == "network" and t.is_active:
            if t.schedule_id is not None and is_open is not None and not is_open(t.schedule_id):
                return [], None
            clients = source.network_by_weight(t.ref_id)
            return [RouteTarget(c, None, t.id, t.kind, t.priority, t.weight) for c in clients], None
    entries, skipped = expand_targets(
        detail.specs, source.clients, source.slots, source.network_clients, skipped_too, is_open
    )
    ordered, dupes = order_targets(detail.ref.assignment, entries, rotation)
    return ordered, (skipped + dupes if skipped_too else None)


# --- rates (step 9) ------------------------------------------------------------------------


def choose_rate(number, rates_by_code, lengths, at):
    """Among rates with ``valid_since <= at`` whose code prefixes ``number``: the longest
    code, then the latest ``valid_since``. ``rates_by_code`` maps code → rates sorted by
    ``valid_since`` descending; ``lengths`` are the code lengths present, descending."""
    n = len(number)
    for length in lengths:
        if length > n:
            continue
        versions = rates_by_code.get(number[:length])
        if not versions:
            continue
        for rate in versions:
            if rate.valid_since <= at:
                return rate
    return None


def rates_table(rates):
    """``(code → rates newest first, lengths descending)`` from any iterable of RateRefs."""
    table = {}
    for r in rates:
        table.setdefault(r.code, []).append(r)
    for versions in table.values():
        versions.sort(key=lambda r: (r.valid_since, r.id), reverse=True)
    return table, tuple(sorted({len(c) for c in table}, reverse=True))


# --- the trace ----------------------------------------------------------------------------


class Trace:
    """What an explained decision records: each step's verdict (SPEC order), every
    candidate and skipped target. It reads what the steps computed; it decides nothing."""

    def __init__(self, decision, currency=""):
        self.decision = decision
        self.currency = currency
        decision.steps = []

    def step(self, key, status, detail=""):
        self.decision.steps.append(Step(key, TITLES[key], status, detail))

    def not_reached(self, after_key):
        keys = [key for key, _, _ in STEPS]
        for key in keys[keys.index(after_key) + 1 :]:
            if key == "source":
                continue
            self.step(key, "skip", "not reached")


# --- the steps ----------------------------------------------------------------------------


class Call:
    """One decision in progress: the input, the source, the trace and what the steps
    found so far (the decision ``d`` carries what the answer shows)."""

    # What the steps fill in later starts as these class attributes (a live decision
    # builds one Call per call: fewer assignments, and a plain __dict__ is as fast here).
    containing = trunk = customer = number = detail = calling = opened = None

    def __init__(self, source, d, raw, trunk_id, ip, at, trace):
        self.source, self.d, self.raw = source, d, raw
        self.trunk_id, self.ip, self.at, self.trace = trunk_id, ip, at, trace

    def is_open(self, schedule_id):
        """Whether schedule ``schedule_id`` is open at the call's time (SPEC §9), asked
        once per schedule per decision. A schedule the index does not hold is shut."""
        opened = self.opened
        if opened is None:
            opened = self.opened = {}
        found = opened.get(schedule_id)
        if found is None:
            schedule = self.source.schedules.get(schedule_id)
            found = opened[schedule_id] = schedule is not None and schedule.is_open(self.at)
        return found


def step_source(c):
    """0. Ingress by source IP: some trunk's networks contain the IP, before anything else."""
    if c.ip is None:
        return None
    c.containing = c.source.ingress_candidates(c.ip)
    if c.trace:
        if not c.containing:
            c.trace.step("source", "fail", f"no trunk authorizes {c.ip}")
        else:
            trunks = c.source.trunks
            names = ", ".join(
                f"{trunks[t].name} (prefix {prefix})" for t, prefix, _ in sorted(c.containing)
            )
            c.trace.step("source", "ok", f"{c.ip} is authorized for {names}")
    return None if c.containing else UNKNOWN_SOURCE


def step_number(c):
    """1. Number syntax (the raw number; the rest after the tech prefix in 2c)."""
    raw = c.raw
    if not (isinstance(raw, str) and _RAW_NUMBER.fullmatch(raw)):  # raw_number_ok
        if not isinstance(raw, str):
            c.d.called_number = repr(raw)
        if c.trace:
            c.trace.step("number", "fail", _raw_problem(raw))
        return INVALID_NUMBER
    if c.trace:
        c.trace.step("number", "ok", f"{raw} uses only 0-9 # * +")
    return None


def step_ingress(c):
    """2. The trunk: given, or chosen among those authorizing the source IP (2b)."""
    source, d = c.source, c.d
    if c.ip is None:
        trunk = source.trunk(c.trunk_id)
        if trunk is None:
            raise IngressError("Unknown trunk.")
        c.trunk = trunk
        if c.trace:
            c.trace.step("ingress", "ok", f"trunk {trunk.name} given")
        return None
    d.source_ip = str(c.ip)
    chosen = pick_ingress_trunk(c.raw, c.containing)
    if chosen is None:
        if c.trace:
            c.trace.step("ingress", "ok", f"{len(c.containing)} trunk(s) authorize {c.ip}")
            c.trace.step("tech_prefix", "fail", f"{c.raw} starts with none of their tech prefixes")
        return TECH_PREFIX_MISMATCH
    c.trunk = trunk = source.trunks[chosen]
    if c.trace:
        c.trace.step(
            "ingress",
            "ok",
            f"chose {trunk.name}: its tech prefix {trunk.tech_prefix} starts the number"
            + (
                " (longest tech prefix, then most specific network, then lowest id)"
                if len(c.containing) > 1
                else ""
            ),
        )
    return None


def step_tech_prefix(c):
    """2c. The number starts with the trunk's tech prefix; what is left is a number."""
    trunk, d = c.trunk, c.d
    d.trunk = trunk
    d.customer = c.customer = c.source.customers.get(trunk.customer_id)
    prefix = trunk.tech_prefix
    rest = c.raw[len(prefix) :] if c.raw.startswith(prefix) else None  # strip_tech_prefix
    if rest is None:
        if c.trace:
            c.trace.step(
                "tech_prefix",
                "fail",
                f"{c.raw} does not start with the trunk's tech prefix {trunk.tech_prefix}",
            )
        return TECH_PREFIX_MISMATCH
    m = _STRIPPED_NUMBER.fullmatch(rest)  # stripped_digits
    number = m.group(1) if m else None
    if number is None:
        if c.trace:
            c.trace.step(
                "tech_prefix",
                "fail",
                f"{c.raw} → “{rest}” after stripping {trunk.tech_prefix}: not an optional + "
                "and 1–24 digits",
            )
        return INVALID_NUMBER
    d.number = c.number = number
    if c.trace:
        c.trace.step(
            "tech_prefix", "ok", f"stripped tech prefix {trunk.tech_prefix}: {c.raw} → {number}"
        )
    return None


def _shut_text(c):
    """``; shut at this time: office (Sat 23:00 in Asia/Yerevan)`` for the schedules this
    decision found shut, or "" (what an explanation adds to "outside its schedule")."""
    shut = sorted(sid for sid, is_open in (c.opened or {}).items() if not is_open)
    parts = []
    for sid in shut:
        schedule = c.source.schedules.get(sid)
        local = schedule.local(c.at) if schedule is not None else None
        if local is None:
            parts.append(f"schedule #{sid}")
        else:
            parts.append(f"{schedule.name} ({local:%a %H:%M} in {schedule.timezone})")
    return f"; shut at this time: {', '.join(parts)}" if parts else ""


def _rewrites(stage, tset, fired):
    return [
        RewriteRef(stage, tset.id, tset.name, r.id, r.position, r.match, r.replace, b, a)
        for r, b, a in fired
    ]


def _rewrite_text(fired):
    """``by rule 1 (0([0-9]+) → 374\\1)``; a chain says each rule's own step."""
    if len(fired) == 1:
        r = fired[0][0]
        return f"by rule {r.position} ({r.match} → {r.replace or '“”'})"
    return "by " + ", then ".join(
        f"rule {r.position} ({r.match} → {r.replace or '“”'}: {b} → {a or '“”'})"
        for r, b, a in fired
    )


def step_translate(c):
    """2d. The trunk's ingress translation (SPEC §9): the number after the tech prefix,
    rewritten before candidates are matched; a result that is not 1–24 digits is
    ``invalid_number``."""
    set_id = c.trunk.ingress_translation_id
    if set_id is None:
        if c.trace:
            c.trace.step("translate", "info", "no ingress translation on the trunk")
        return None
    tset = c.source.tsets.get(set_id)
    rules = tset.rules if tset is not None else ()
    before = c.number
    result, fired = translate(rules, before)
    trace = c.trace
    if trace and fired:
        c.d.rewrites = _rewrites("ingress", tset, fired)
    if result is None:
        if trace:
            made = fired[-1][2] or "“”"
            trace.step(
                "translate",
                "fail",
                f"{tset.name}: {before} → {made} {_rewrite_text(fired)}: not 1–24 digits",
            )
        return INVALID_NUMBER
    c.d.number = c.number = result
    if trace:
        name = tset.name if tset is not None else f"#{set_id}"
        if fired:
            trace.step("translate", "ok", f"{name}: {before} → {result} {_rewrite_text(fired)}")
        else:
            trace.step("translate", "ok", f"{name}: no rule matches {before}; unchanged")
    return None


def step_trunk_status(c):
    """3. The trunk is enabled."""
    if c.trunk.status != "active":
        if c.trace:
            c.trace.step("trunk_status", "fail", f"trunk {c.trunk.name} is disabled")
        return TRUNK_DISABLED
    if c.trace:
        c.trace.step("trunk_status", "ok", f"trunk {c.trunk.name} is active")
    return None


def step_customer_status(c):
    """4. The trunk's customer is not blocked."""
    customer = c.customer
    if customer is None or customer.status == "blocked":
        if c.trace:
            name = customer.name if customer else "the customer"
            c.trace.step("customer_status", "fail", f"{name} is blocked")
        return CUSTOMER_BLOCKED
    if c.trace:
        c.trace.step("customer_status", "ok", f"{customer.name} is active")
    return None


def step_balance(c):
    """5. Balance: the customers' one balance rule (``customers.models.balance_refusal``)."""
    ok = balance_refusal(c.customer) is None
    if c.trace:
        money = _balance_text(c.customer, c.trace.currency)
        c.trace.step("balance", "ok" if ok else "fail", money)
    return None if ok else INSUFFICIENT_BALANCE


def step_lists(c):
    """5b. The trunk's number lists (SPEC §9): a deny list that matches, or an allow list
    that does not, refuses the call and is named. A ``calling`` list checks the calling
    number; without one, deny does not match and allow refuses."""
    source = c.source
    list_ids = source.trunk_lists.get(c.trunk.id)
    trace = c.trace
    if not list_ids:
        if trace:
            trace.step("lists", "info", "no number lists on the trunk")
        return None
    lists = source.nlists
    passed = []
    for list_id in list_ids:
        nl = lists.get(list_id)
        if nl is None:
            continue
        blocks, found = list_verdict(nl.kind, nl.applies_to, nl.matcher, c.number, c.calling)
        if blocks:
            c.d.number_list = ListRef(nl.id, nl.name, nl.kind, nl.applies_to)
            if trace:
                trace.step("lists", "fail", _list_text(nl, c, found, True))
            return NUMBER_BLOCKED
        if trace:
            passed.append(_list_text(nl, c, found, False))
    if trace:
        trace.step("lists", "ok", "; ".join(passed))
    return None


def _list_text(nl, c, found, blocks):
    which = "called" if nl.applies_to == "called" else "calling"
    number = c.number if which == "called" else c.calling
    head = f"{nl.kind} list {nl.name} ({which} number"
    if number is None:
        return f"{head}): no calling number given" + (" — refused" if blocks else "")
    if found is not None:
        value, how = found
        hit = f"{number} matches {how} entry {value}"
    else:
        hit = f"{number} matches no entry"
    return f"{head}): {hit}" + (" — refused" if blocks else "")


def step_route(c):
    """6–7. Eligible links of the trunk, then the longest code with the tie-breaks."""
    source, trunk, d = c.source, c.trunk, c.d
    table, lengths = source.routes.get(trunk.id, _EMPTY_ROUTES)
    winner = pick_link(c.number, table, lengths, trunk.id, trunk.customer_id, c.is_open)
    if winner is not None:
        d.dialpeer, c.detail = source.details(winner, trunk.id)
    if c.trace:
        _trace_candidates(c, table, winner)
    if winner is None:
        return NO_ROUTE
    d.rule = c.detail.ref
    return None


def _trace_candidates(c, table, winner):
    number, trunk, trace = c.number, c.trunk, c.trace
    matching, others = [], []
    for code, links in table.items():
        (matching if number.startswith(code) else others).extend(links_at(links))
    listed = heapq.nsmallest(
        EXPLAIN_NON_MATCHING_LIMIT, others, key=lambda link: (link.code, link.dialpeer_id)
    )
    links = matching + listed
    names = c.source.names(links)
    results = classify(links, winner, number, trunk.id, trunk.customer_id, names, c.is_open)
    d = c.d
    d.candidates, d.candidates_omitted = results, len(others) - len(listed)
    eligible = sum(
        1 for link in matching if not ineligibility(link, trunk.id, trunk.customer_id, c.is_open)
    )
    total = len(matching) + len(others)
    trace.step(
        "candidates",
        "ok" if eligible else "fail",
        f"{total} rule(s) linked to this trunk; {eligible} eligible and matching "
        "(active dialpeer, active rule, unscoped or scoped to this trunk, inside its "
        "schedule)" + _shut_text(c),
    )
    if winner is None:
        trace.step("match", "fail", f"no eligible rule's code is a prefix of {number}")
    else:
        trace.step(
            "match",
            "ok",
            f"{c.detail.ref.display} via dialpeer {d.dialpeer.name} — the longest matching code",
        )


def step_targets(c):
    """8. The winning rule's usable targets, in order."""
    rule = c.detail.ref
    rotation = None
    if rule.assignment == PRIORITY:
        key = (c.source.tenant_id, rule.id)
        rotation = lambda prio, n: round_robin.offset((*key, prio))  # noqa: E731
    trace = c.trace
    ordered, skipped = rule_targets(c.source, c.detail, rotation, trace is not None, c.is_open)
    d = c.d
    number = c.number
    egress = c.source.network_egress
    if egress:
        ordered = _egress(c, ordered, skipped, egress)
    else:
        for target in ordered:
            target.number = number
    d.targets = ordered
    if trace:
        d.skipped_targets = c.source.name_targets(skipped, c.detail.specs)
        if ordered:
            trace.step(
                "targets",
                "ok",
                f"{len(ordered)} target(s) by {rule.assignment}"
                + (f"; {len(skipped)} skipped" if skipped else "")
                + _shut_text(c)
                + "".join(
                    f"; egress {r.set_name} for {r.stage[len('egress: ') :]}: "
                    f"{r.before} → {r.after}"
                    for r in d.rewrites
                    if r.stage.startswith("egress")
                ),
            )
        else:
            trace.step("targets", "fail", "no usable target" + _shut_text(c))
    return None if ordered else NO_TARGET


def _egress(c, ordered, skipped, egress):
    """Each target's number: the decision's, translated by the egress set of its client's
    network (SPEC §9). A translation that makes no number skips the target."""
    number, source, trace = c.number, c.source, c.trace
    made = {}  # set id → (result, fired): one translation per set per decision
    out = []
    for target in ordered:
        set_id = egress.get(target.client.network_id)
        if set_id is None:
            target.number = number
            out.append(target)
            continue
        found = made.get(set_id)
        tset = source.tsets.get(set_id)
        if found is None:
            found = made[set_id] = translate(tset.rules if tset else (), number)
            if trace and found[1]:
                network = source.network_names.get(target.client.network_id, "")
                c.d.rewrites = [
                    *c.d.rewrites,
                    *_rewrites(f"egress: {network}", tset, found[1]),
                ]
        result = found[0]
        if result is None:
            if skipped is not None:
                skipped.append(
                    SkippedTarget(
                        target.target_id,
                        target.via,
                        target.client.name,
                        f"egress translation {tset.name} makes {found[1][-1][2] or '“”'} of "
                        f"{number}: not 1–24 digits",
                    )
                )
            continue
        target.number = result
        out.append(target)
    return out


def step_rate(c):
    """9. The rate from the trunk's plan at the call time; no plan = unbilled."""
    d, trunk, trace = c.d, c.trunk, c.trace
    plan_id = trunk.rate_plan_id
    if plan_id is None:
        d.unbilled = True
        if trace:
            trace.step("rate", "info", "unbilled: trunk has no rate plan")
        return None
    plan = c.source.plans.get(plan_id)
    rate = None
    if plan is not None and plan.status == "active":
        rate = choose_rate(c.number, plan.table, plan.lengths, c.at)
    if rate is None:
        if trace:
            if plan is None or plan.status != "active":
                why = f"rate plan {plan.name if plan else plan_id} is disabled"
            else:
                why = f"rate plan {plan.name} has no rate for {c.number} at {iso_utc(c.at)}"
            trace.step("rate", "fail", why)
        return NO_RATE
    d.rate = rate
    if trace:
        trace.step(
            "rate",
            "ok",
            f"{plan.name}: code {rate.code or CATCH_ALL} at {rate.rate_per_min} "
            f"{plan.currency}/min",
        )
    return None


#: SPEC §5 in order: (key, title as an explanation shows it, step).
STEPS = (
    ("source", "0. Source", step_source),
    ("number", "1. Number syntax", step_number),
    ("ingress", "2. Ingress", step_ingress),
    ("tech_prefix", "2c. Tech prefix", step_tech_prefix),
    ("translate", "2d. Ingress translation", step_translate),
    ("trunk_status", "3. Trunk status", step_trunk_status),
    ("customer_status", "4. Customer status", step_customer_status),
    ("balance", "5. Balance", step_balance),
    ("lists", "5b. Number lists", step_lists),
    ("candidates", "6. Candidates", None),  # recorded by step_route
    ("match", "7. Longest code", step_route),
    ("targets", "8. Targets", step_targets),
    ("rate", "9. Rate", step_rate),
)
TITLES = {key: title for key, title, _ in STEPS}
_RUN = tuple(step for _, _, step in STEPS if step is not None)
_EMPTY_ROUTES = ({}, ())


def decide(source, raw, trunk_id, ip, at, explain=False, currency="", calling=None):
    """Run :data:`STEPS` over ``source`` until one rejects the call (SPEC §5 and §9).

    ``calling`` is the calling number's digits (None: not given). ``explain`` only turns
    the trace on; an explained decision does not advance the round-robin of priority
    rules, a live one does."""
    d = RouteDecision(called_number=raw, at=at, explain=explain, calling_number=calling)
    trace = Trace(d, currency) if explain else None
    c = Call(source, d, raw, trunk_id, ip, at, trace)
    c.calling = calling
    for step in _RUN:
        reason = step(c)
        if reason is not None:
            if trace:
                trace.not_reached(d.steps[-1].key)
            return finish(d, reason)
    finish(d, ROUTED)
    if not explain and c.detail.ref.assignment == PRIORITY:
        rule_id = c.detail.ref.id
        tenant_id = source.tenant_id
        round_robin.advance({(tenant_id, rule_id, t.priority) for t in d.targets})
    return d
