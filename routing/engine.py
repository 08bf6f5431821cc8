"""The routing decision (SPEC §4 and §5): where does this call go, or why is it rejected.

One function, :func:`route_call`, serves the test-call page, the JSON API, the SIP edge (via
the API) and ``run_routing_checks``. The module has three layers:

* a **pure core** without the ORM: number syntax, tech-prefix stripping, ingress choice
  among matching trunks, candidate ranking (eligibility first, then longest code, then the
  tie-breaks), target ordering (weight and priority modes, round-robin) and rate choice;
* a **database loader** (:func:`decide_from_db`) that reads one decision's rows with a fixed
  number of queries and feeds the core. It is the reference implementation and serves
  ``explain=True`` (the test-call page), where every candidate and skipped target is listed;
* the **in-process index** (``routing/route_index.py``) that serves live decisions without
  touching the ORM, kept exact by a change log written by database triggers.

Rows in a decision are light, immutable snapshots (``TrunkRef``, ``RuleRef``…), not model
instances: they carry ids, display names and the state the decision used.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.urls import NoReverseMatch, reverse

from customers.models import balance_refusal

# --- outcomes ------------------------------------------------------------------------------

ROUTED, REJECTED = "routed", "rejected"

INVALID_NUMBER = "invalid_number"
UNKNOWN_SOURCE = "unknown_source"
TECH_PREFIX_MISMATCH = "tech_prefix_mismatch"
TRUNK_DISABLED = "trunk_disabled"
CUSTOMER_BLOCKED = "customer_blocked"
INSUFFICIENT_BALANCE = "insufficient_balance"
NO_ROUTE = "no_route"
NO_TARGET = "no_target"
NO_RATE = "no_rate"

#: reason → (SIP code, SIP reason phrase); ``unknown_source`` gets no answer at all.
SIP_ANSWERS = {
    ROUTED: (302, "Moved Temporarily"),
    INVALID_NUMBER: (484, "Address Incomplete"),
    UNKNOWN_SOURCE: (None, ""),
    TECH_PREFIX_MISMATCH: (404, "No Route"),
    TRUNK_DISABLED: (403, "Forbidden"),
    CUSTOMER_BLOCKED: (403, "Forbidden"),
    INSUFFICIENT_BALANCE: (402, "Payment Required"),
    NO_ROUTE: (404, "No Route"),
    NO_TARGET: (503, "Service Unavailable"),
    NO_RATE: (403, "Forbidden"),
}

REASON_LABELS = {
    ROUTED: "routed",
    INVALID_NUMBER: "invalid number",
    UNKNOWN_SOURCE: "unknown source",
    TECH_PREFIX_MISMATCH: "tech prefix mismatch",
    TRUNK_DISABLED: "trunk disabled",
    CUSTOMER_BLOCKED: "customer blocked",
    INSUFFICIENT_BALANCE: "insufficient balance",
    NO_ROUTE: "no route",
    NO_TARGET: "no target",
    NO_RATE: "no rate",
}

READY = "ready"
WEIGHT, PRIORITY = "weight", "priority"

#: How many candidates whose code does not match the number an explanation lists.
EXPLAIN_NON_MATCHING_LIMIT = 200


class IngressError(ValueError):
    """The call's ingress is malformed: both/neither of trunk and source IP, an unparsable
    IP, or a trunk that is not this tenant's. Callers turn it into a 400 / form error."""


# --- snapshots -----------------------------------------------------------------------------


def _url(name, pk):
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


class _Ref:
    """What the snapshots share with model instances in templates and links: ``pk``,
    ``str()`` (the name) and ``get_absolute_url()`` (from ``url_name``; "" without one)."""

    __slots__ = ()
    url_name = ""

    @property
    def pk(self):
        return self.id

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return _url(self.url_name, self.id) if self.url_name else ""


@dataclass(frozen=True, slots=True)
class CustomerRef(_Ref):
    id: int
    name: str
    status: str = "active"
    billing_type: str = "prepaid"
    balance: Decimal = Decimal("0")
    credit_limit: Decimal = Decimal("0")
    credit_unlimited: bool = False
    overdraft_allowed: bool = False
    overdraft_limit: Decimal = Decimal("0")

    url_name = "customers:customer_detail"

    def can_take_calls(self):
        return balance_refusal(self) is None


@dataclass(frozen=True, slots=True)
class TrunkRef(_Ref):
    id: int
    name: str
    tech_prefix: str
    status: str
    customer_id: int
    rate_plan_id: int | None

    url_name = "customers:trunk_detail"


@dataclass(frozen=True, slots=True)
class RuleRef(_Ref):
    id: int
    code: str
    label: str
    assignment: str = WEIGHT
    trunk_id: int | None = None
    is_active: bool = True

    url_name = "routing:routingrule_detail"

    @property
    def display(self):
        if not self.code:
            return "* (any)"
        return f"{self.code} — {self.label}" if self.label else self.code

    def __str__(self):
        return self.display


@dataclass(frozen=True, slots=True)
class DialpeerRef(_Ref):
    id: int
    name: str
    is_active: bool = True
    customer_id: int | None = None
    trunk_id: int | None = None
    rule_id: int | None = None

    url_name = "dialpeers:dialpeer_detail"


@dataclass(frozen=True, slots=True)
class ClientRef(_Ref):
    id: int
    name: str
    sip_uri: str
    status: str
    active_calls: int
    network_id: int | None = None

    url_name = "routing:vmgateclient_detail"


@dataclass(frozen=True, slots=True)
class SlotRef(_Ref):
    id: int
    client_id: int
    position: int
    enabled: bool = True
    label: str = ""

    def __str__(self):
        return f"slot {self.position}"


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One RoutingTarget row: exactly one of network/client/SIM slot (``kind`` + ``ref_id``)."""

    id: int
    kind: str  # "network" | "client" | "sim_slot"
    ref_id: int
    priority: int = 0
    weight: int = 1
    is_active: bool = True
    ref_name: str = ""


def money_text(value):
    """``0.012500`` → ``0.0125``, ``1.000000`` → ``1.00``: as many decimals as it has, ≥ 2."""
    text = f"{value:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    return text


@dataclass(frozen=True, slots=True)
class RateRef:
    id: int
    plan_id: int
    plan_name: str
    currency: str
    code: str
    description: str
    valid_since: datetime
    rate_per_min: Decimal
    connection_fee: Decimal
    connection_sec: int
    billing_block_sec: int

    @property
    def rate_per_min_text(self):
        return money_text(self.rate_per_min)

    @property
    def connection_fee_text(self):
        return money_text(self.connection_fee)

    def as_dict(self):
        return {
            "id": self.id,
            "plan": {"id": self.plan_id, "name": self.plan_name},
            "code": self.code,
            "description": self.description,
            "valid_since": iso_utc(self.valid_since),
            "rate_per_min": str(self.rate_per_min),
            "connection_fee": str(self.connection_fee),
            "connection_sec": self.connection_sec,
            "billing_block_sec": self.billing_block_sec,
            "currency": self.currency,
        }


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """One Contact of a routed call, in order: the client, and the SIM slot if a slot
    target placed it."""

    client: ClientRef
    sim_slot: SlotRef | None
    target_id: int
    via: str  # kind of the target that placed the client
    priority: int
    weight: int

    def as_dict(self):
        return {
            "client": {
                "id": self.client.id,
                "name": self.client.name,
                "sip_uri": self.client.sip_uri,
                "active_calls": self.client.active_calls,
            },
            "sim_slot": (
                {"id": self.sim_slot.id, "position": self.sim_slot.position}
                if self.sim_slot
                else None
            ),
            "target_id": self.target_id,
            "via": self.via,
            "priority": self.priority,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class SkippedTarget:
    target_id: int
    kind: str
    name: str
    reason: str

    def as_dict(self):
        return {
            "target_id": self.target_id,
            "kind": self.kind,
            "name": self.name,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule linked to the trunk by a dialpeer, as the ranking sees it."""

    dialpeer: DialpeerRef
    rule: RuleRef

    @property
    def code(self):
        return self.rule.code


@dataclass(frozen=True, slots=True)
class CandidateResult:
    dialpeer: DialpeerRef
    rule: RuleRef
    won: bool
    why: str  # "" for the winner

    def as_dict(self):
        return {
            "dialpeer": {
                "id": self.dialpeer.id,
                "name": self.dialpeer.name,
                "is_active": self.dialpeer.is_active,
            },
            "rule": _rule_dict(self.rule) | {"is_active": self.rule.is_active},
            "won": self.won,
            "why": self.why,
        }


@dataclass(slots=True)
class Step:
    """One step of SPEC §5 as an explanation shows it: passed, failed or not reached."""

    key: str
    title: str
    status: str  # "ok" | "fail" | "skip" | "info"
    detail: str = ""

    def as_dict(self):
        return {"key": self.key, "title": self.title, "status": self.status, "detail": self.detail}


# --- the decision --------------------------------------------------------------------------


def iso_utc(value):
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rule_dict(rule):
    return {
        "id": rule.id,
        "code": rule.code,
        "label": rule.label,
        "name": rule.display,
        "assignment": rule.assignment,
        "trunk_id": rule.trunk_id,
    }


@dataclass(slots=True)
class RouteDecision:
    """The answer of :func:`route_call` (SPEC §5)."""

    outcome: str = REJECTED
    reason: str = ""
    sip_code: int | None = None
    sip_reason: str = ""
    called_number: str = ""
    number: str = ""
    customer: CustomerRef | None = None
    trunk: TrunkRef | None = None
    dialpeer: DialpeerRef | None = None
    rule: RuleRef | None = None
    targets: list = field(default_factory=list)
    rate: RateRef | None = None
    unbilled: bool = False
    at: datetime | None = None
    explain: bool = False
    candidates: list = field(default_factory=list)
    candidates_omitted: int = 0
    skipped_targets: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    source_ip: str | None = None

    @property
    def routed(self):
        return self.outcome == ROUTED

    @property
    def summary(self):
        """``Routed → 302`` / ``Rejected: no route → 404`` / ``Rejected: unknown source (no reply)``."""
        if self.outcome == ROUTED:
            return f"Routed → {self.sip_code}"
        label = REASON_LABELS.get(self.reason, self.reason)
        if self.sip_code is None:
            return f"Rejected: {label} (no reply)"
        return f"Rejected: {label} → {self.sip_code}"

    def as_dict(self):
        data = {
            "outcome": self.outcome,
            "reason": self.reason,
            "sip_code": self.sip_code,
            "sip_reason": self.sip_reason,
            "called_number": self.called_number,
            "number": self.number,
            "at": iso_utc(self.at),
            "customer": (
                {"id": self.customer.id, "name": self.customer.name} if self.customer else None
            ),
            "trunk": (
                {
                    "id": self.trunk.id,
                    "name": self.trunk.name,
                    "tech_prefix": self.trunk.tech_prefix,
                }
                if self.trunk
                else None
            ),
            "dialpeer": (
                {"id": self.dialpeer.id, "name": self.dialpeer.name} if self.dialpeer else None
            ),
            "rule": _rule_dict(self.rule) if self.rule else None,
            "targets": [t.as_dict() for t in self.targets],
            "rate": self.rate.as_dict() if self.rate else None,
            "unbilled": self.unbilled,
        }
        if self.explain:
            data["candidates"] = [c.as_dict() for c in self.candidates]
            data["candidates_omitted"] = self.candidates_omitted
            data["skipped_targets"] = [s.as_dict() for s in self.skipped_targets]
            data["steps"] = [s.as_dict() for s in self.steps]
        return data


def finish(decision, reason):
    """Set the outcome, reason and SIP answer of ``decision`` from ``reason``."""
    decision.outcome = ROUTED if reason == ROUTED else REJECTED
    decision.reason = reason
    decision.sip_code, decision.sip_reason = SIP_ANSWERS[reason]
    return decision


# --- pure core: numbers (SPEC §4) ----------------------------------------------------------

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


# --- pure core: ingress by source IP -------------------------------------------------------


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


# --- pure core: candidates (steps 6 and 7) -------------------------------------------------


def ineligibility(candidate, trunk_id, customer_id):
    """Why a linked rule cannot carry this call at all (step 6), or "" when it can."""
    dp, rule = candidate.dialpeer, candidate.rule
    if not dp.is_active:
        return "dialpeer inactive"
    if dp.customer_id is not None and dp.customer_id != customer_id:
        return "dialpeer is for another origin customer"
    if not rule.is_active:
        return "rule inactive"
    if rule.trunk_id is not None and rule.trunk_id != trunk_id:
        return "rule scoped to another trunk"
    return ""


def rank_key(candidate):
    """Order among eligible matching candidates: longest code, then trunk-scoped before
    unscoped, then lowest dialpeer id."""
    return (-len(candidate.rule.code), 0 if candidate.rule.trunk_id else 1, candidate.dialpeer.id)


def rank_candidates(number, candidates, trunk_id, customer_id):
    """Steps 6–7 over a list of :class:`Candidate`: filter eligibility first, then pick the
    longest matching code with the tie-breaks. Returns ``(winner or None, results)`` where
    ``results`` says for every candidate whether it won and why it lost."""
    verdicts = {}
    eligible = []
    for c in candidates:
        why = ineligibility(c, trunk_id, customer_id)
        if not why and not code_matches(c.rule.code, number):
            why = "code does not match"
        if why:
            verdicts[id(c)] = why
        else:
            eligible.append(c)
    winner = min(eligible, key=rank_key) if eligible else None
    results = []
    for c in candidates:
        if c is winner:
            results.append(CandidateResult(c.dialpeer, c.rule, True, ""))
            continue
        why = verdicts.get(id(c))
        if why is None:
            why = _lost_to(c, winner)
        results.append(CandidateResult(c.dialpeer, c.rule, False, why))
    results.sort(key=_result_order)
    return winner, results


def _lost_to(c, winner):
    w = winner.rule
    if len(c.rule.code) < len(w.code):
        return f"shorter than the winner ({w.display})"
    if bool(w.trunk_id) and not c.rule.trunk_id:
        return "same code as the winner, which is scoped to this trunk"
    return f"same code as the winner, whose dialpeer has a lower id (#{winner.dialpeer.id})"


def _result_order(r):
    return (not r.won, -len(r.rule.code), r.rule.code, r.dialpeer.id)


def longest_match(number, table, lengths):
    """Index lookup: probe ``table`` (code → value) with the prefixes of ``number`` whose
    lengths occur in ``lengths`` (descending). Returns ``(code, value)`` or None."""
    n = len(number)
    get = table.get
    for length in lengths:
        if length <= n:
            value = get(number[:length])
            if value is not None:
                return number[:length], value
    return None


# --- pure core: targets (step 8) -----------------------------------------------------------

_STATUS_TEXT = {"no_dongle": "has no dongle", "off": "is off"}


def _not_ready(client):
    return f"client {client.name} {_STATUS_TEXT.get(client.status, 'is ' + client.status)}"


def expand_targets(targets, clients, slots, network_clients):
    """Usable ``(spec, client, slot)`` entries of a rule's targets plus the skipped ones.

    A network target expands to its ``ready`` clients (in client id order); a client target
    counts when the client is ready; a SIM-slot target when the slot is enabled and its
    client ready. ``targets`` are :class:`TargetSpec`; the lookups map ids to refs."""
    entries, skipped = [], []
    for t in sorted(targets, key=lambda t: (t.priority, t.id)):
        if not t.is_active:
            skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, "target inactive"))
            continue
        if t.kind == "network":
            members = [clients[c] for c in network_clients.get(t.ref_id, ()) if c in clients]
            if not members:
                skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, "network has no clients"))
                continue
            ready = 0
            for client in members:
                if client.status == READY:
                    entries.append((t, client, None))
                    ready += 1
                else:
                    skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, _not_ready(client)))
            continue
        if t.kind == "client":
            client = clients.get(t.ref_id)
            if client is None:
                skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, "client missing"))
            elif client.status != READY:
                skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, _not_ready(client)))
            else:
                entries.append((t, client, None))
            continue
        slot = slots.get(t.ref_id)
        client = clients.get(slot.client_id) if slot else None
        if slot is None or client is None:
            skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, "SIM slot missing"))
        elif not slot.enabled:
            skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, "SIM slot disabled"))
        elif client.status != READY:
            skipped.append(SkippedTarget(t.id, t.kind, t.ref_name, _not_ready(client)))
        else:
            entries.append((t, client, slot))
    return entries, skipped


def order_targets(assignment, entries, rotation=None):
    """Order usable entries (SPEC §5 step 8) and drop repeated clients.

    ``weight``: least ``active_calls`` first, ties → higher weight, then client id (then
    target order). ``priority``: lower priority first; within one priority level the
    entries are rotated by ``rotation(priority, n)`` (round-robin offset; None = 0).
    A client reached through several targets appears once, at its best position.
    Returns ``(ordered RouteTargets, duplicates as SkippedTargets)``."""
    if assignment == PRIORITY:
        levels = {}
        for e in entries:
            levels.setdefault(e[0].priority, []).append(e)
        ranked = []
        for prio in sorted(levels):
            level = levels[prio]
            k = rotation(prio, len(level)) % len(level) if rotation and len(level) > 1 else 0
            ranked.extend(level[k:] + level[:k])
    else:
        ranked = sorted(
            entries,
            key=lambda e: (e[1].active_calls, -e[0].weight, e[1].id, e[0].priority, e[0].id),
        )
    ordered, dupes, placed = [], [], {}
    for t, client, slot in ranked:
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
        ordered.append(RouteTarget(client, slot, t.id, t.kind, t.priority, t.weight))
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


# --- pure core: rates (step 9) -------------------------------------------------------------


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


# --- the entry point -----------------------------------------------------------------------


def normalise_at(at):
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime):
        raise IngressError("The call time must be a datetime.")
    if at.tzinfo is None:
        # Naive times are UTC, like every time in rate plans.
        return at.replace(tzinfo=UTC)
    return at


def route_call(tenant, *, called_number, trunk=None, source_ip=None, at=None, explain=False):
    """Decide where a call goes, or why it is rejected (SPEC §5).

    Exactly one of ``trunk`` (a Trunk of ``tenant`` or its id) and ``source_ip`` (a string)
    identifies the ingress; ``at`` (default now; naive = UTC) picks the rate. With
    ``explain=True`` the decision also lists every candidate rule and why it lost, every
    skipped target and why, and each step; such a decision never advances the round-robin.
    Raises :class:`IngressError` for a malformed ingress (both/neither given, an unparsable
    IP, a trunk of another tenant or a missing one).
    """
    if tenant is None or getattr(tenant, "pk", None) is None:
        raise IngressError("A tenant is required.")
    if (trunk is None) == (source_ip is None):
        raise IngressError("Give exactly one of trunk and source_ip.")
    trunk_id = None
    if trunk is not None:
        if isinstance(trunk, bool):
            raise IngressError("Unknown trunk.")
        if isinstance(trunk, int):
            trunk_id = trunk
        else:
            trunk_id = getattr(trunk, "pk", None)
            if trunk_id is None or getattr(trunk, "tenant_id", tenant.pk) != tenant.pk:
                raise IngressError("Unknown trunk.")
    ip = parse_source_ip(source_ip) if source_ip is not None else None
    at = normalise_at(at)
    if explain:
        return decide_from_db(tenant, called_number, trunk_id, ip, at, explain=True)
    from routing import route_index

    return route_index.decide(tenant, called_number, trunk_id, ip, at)


# --- the database loader (reference implementation; serves explain=True) -------------------


def decide_from_db(tenant, called_number, trunk_id, ip, at, explain=False):
    """The decision computed straight from the database with a fixed number of queries.

    Used for ``explain=True`` (it lists everything, including inactive rows) and as the
    reference the in-process index is tested against."""
    from customers.models import Trunk, TrunkNetwork

    d = RouteDecision(called_number=called_number, at=at, explain=explain)
    d.source_ip = str(ip) if ip is not None else None
    steps = d.steps

    def step(key, title, status, detail=""):
        if explain:
            steps.append(Step(key, title, status, detail))

    def reject(reason, remaining):
        if explain:
            for key, title in remaining:
                steps.append(Step(key, title, "skip", "not reached"))
        return finish(d, reason)

    later = list(STEP_TITLES.items())

    def after(key):
        keys = list(STEP_TITLES)
        return later[keys.index(key) + 1 :]

    # 1. number syntax (raw)
    if not raw_number_ok(called_number):
        step("number", STEP_TITLES["number"], "fail", _raw_problem(called_number))
        d.called_number = called_number if isinstance(called_number, str) else repr(called_number)
        return reject(INVALID_NUMBER, after("number"))
    step("number", STEP_TITLES["number"], "ok", f"{called_number} uses only 0-9 # * +")

    # 2. ingress
    trunk_qs = Trunk.objects.filter(tenant_id=tenant.pk).select_related("customer", "rate_plan")
    if ip is None:
        trunk = trunk_qs.filter(pk=trunk_id).first()
        if trunk is None:
            raise IngressError("Unknown trunk.")
        step("ingress", STEP_TITLES["ingress"], "ok", f"trunk {trunk.name} given")
        rest = strip_tech_prefix(called_number, trunk.tech_prefix)
        if rest is None:
            d.trunk, d.customer = _trunk_ref(trunk), _customer_ref(trunk.customer)
            step(
                "tech_prefix",
                STEP_TITLES["tech_prefix"],
                "fail",
                f"{called_number} does not start with the trunk's tech prefix {trunk.tech_prefix}",
            )
            return reject(TECH_PREFIX_MISMATCH, after("tech_prefix"))
    else:
        containing = {}
        for tn in TrunkNetwork.objects.filter(trunk__tenant_id=tenant.pk).select_related("trunk"):
            net = ipaddress.ip_network(tn.network)
            if net.version == ip.version and ip in net:
                prev = containing.get(tn.trunk_id)
                if prev is None or net.prefixlen > prev[2]:
                    containing[tn.trunk_id] = (tn.trunk, tn.network, net.prefixlen)
        if not containing:
            step("ingress", STEP_TITLES["ingress"], "fail", f"no trunk authorizes {ip}")
            return reject(UNKNOWN_SOURCE, after("ingress"))
        chosen = pick_ingress_trunk(
            called_number, [(t.id, t.tech_prefix, plen) for t, _, plen in containing.values()]
        )
        names = ", ".join(
            f"{t.name} (prefix {t.tech_prefix}, {net})"
            for t, net, _ in sorted(containing.values(), key=lambda v: v[0].id)
        )
        if chosen is None:
            step("ingress", STEP_TITLES["ingress"], "ok", f"{ip} is authorized for {names}")
            step(
                "tech_prefix",
                STEP_TITLES["tech_prefix"],
                "fail",
                f"{called_number} starts with none of their tech prefixes",
            )
            return reject(TECH_PREFIX_MISMATCH, after("tech_prefix"))
        trunk = trunk_qs.get(pk=chosen)
        _, net, _ = containing[chosen]
        step(
            "ingress",
            STEP_TITLES["ingress"],
            "ok",
            f"{ip} is authorized for {names}; chose {trunk.name}: its tech prefix "
            f"{trunk.tech_prefix} starts the number"
            + (
                " (longest tech prefix, then most specific network, then lowest id)"
                if len(containing) > 1
                else ""
            ),
        )
        rest = strip_tech_prefix(called_number, trunk.tech_prefix)
    d.trunk, d.customer = _trunk_ref(trunk), _customer_ref(trunk.customer)

    # 1 (again) on what is left after the tech prefix
    number = stripped_digits(rest)
    if number is None:
        step(
            "tech_prefix",
            STEP_TITLES["tech_prefix"],
            "fail",
            f"{called_number} → “{rest}” after stripping {trunk.tech_prefix}: not an optional + "
            "and 1–24 digits",
        )
        return reject(INVALID_NUMBER, after("tech_prefix"))
    d.number = number
    step(
        "tech_prefix",
        STEP_TITLES["tech_prefix"],
        "ok",
        f"stripped tech prefix {trunk.tech_prefix}: {called_number} → {number}",
    )
    return _decide_for_trunk(d, tenant, trunk, number, at, explain, step, reject, after)


STEP_TITLES = {
    "number": "1. Number syntax",
    "ingress": "2. Ingress",
    "tech_prefix": "2c. Tech prefix",
    "trunk_status": "3. Trunk status",
    "customer_status": "4. Customer status",
    "balance": "5. Balance",
    "candidates": "6. Candidates",
    "match": "7. Longest code",
    "targets": "8. Targets",
    "rate": "9. Rate",
}


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


def _trunk_ref(t):
    return TrunkRef(t.id, t.name, t.tech_prefix, t.status, t.customer_id, t.rate_plan_id)


def _customer_ref(c):
    return CustomerRef(
        c.id,
        c.name,
        c.status,
        c.billing_type,
        c.balance,
        c.credit_limit,
        c.credit_unlimited,
        c.overdraft_allowed,
        c.overdraft_limit,
    )


def _rule_ref(r):
    return RuleRef(r.id, r.code, r.label, r.assignment, r.trunk_id, r.is_active)


def _dialpeer_ref(dp):
    return DialpeerRef(dp.id, dp.name, dp.is_active, dp.customer_id, dp.trunk_id, dp.rule_id)


def _client_ref(c):
    return ClientRef(c.id, c.name, c.sip_uri, c.status, c.active_calls, c.network_id)


def _rate_ref(r, plan):
    return RateRef(
        r.id,
        plan.id,
        plan.name,
        plan.currency,
        r.code,
        r.description,
        r.valid_since,
        r.rate_per_min,
        r.connection_fee,
        r.connection_sec,
        r.billing_block_sec,
    )


def _decide_for_trunk(d, tenant, trunk, number, at, explain, step, reject, after):
    from customers.models import Customer, Rate
    from dialpeers.models import Dialpeer

    customer = trunk.customer
    # 3. trunk disabled
    if trunk.status != "active":
        step("trunk_status", STEP_TITLES["trunk_status"], "fail", f"trunk {trunk.name} is disabled")
        return reject(TRUNK_DISABLED, after("trunk_status"))
    step("trunk_status", STEP_TITLES["trunk_status"], "ok", f"trunk {trunk.name} is active")
    # 4. customer blocked
    if customer.status == Customer.BLOCKED:
        step(
            "customer_status", STEP_TITLES["customer_status"], "fail", f"{customer.name} is blocked"
        )
        return reject(CUSTOMER_BLOCKED, after("customer_status"))
    step("customer_status", STEP_TITLES["customer_status"], "ok", f"{customer.name} is active")
    # 5. balance
    money = _balance_text(customer, tenant)
    if not d.customer.can_take_calls():
        step("balance", STEP_TITLES["balance"], "fail", money)
        return reject(INSUFFICIENT_BALANCE, after("balance"))
    step("balance", STEP_TITLES["balance"], "ok", money)

    # 6–7. candidates: rules linked to this trunk by a dialpeer
    prefixes = candidate_prefixes(number)
    base = Dialpeer.objects.filter(trunk_id=trunk.id).select_related("rule")
    rows = list(base.filter(rule__code__in=prefixes).order_by("id"))
    omitted = 0
    if explain:
        others = base.exclude(rule__code__in=prefixes).order_by("rule__code", "id")
        rows += list(others[:EXPLAIN_NON_MATCHING_LIMIT])
        omitted = max(0, base.count() - len(rows))
    candidates = [Candidate(_dialpeer_ref(dp), _rule_ref(dp.rule)) for dp in rows]
    winner, results = rank_candidates(number, candidates, trunk.id, trunk.customer_id)
    d.candidates, d.candidates_omitted = results, omitted
    if explain:
        eligible = sum(1 for r in results if r.won or not _is_ineligible(r.why))
        total = len(results) + omitted
        step(
            "candidates",
            STEP_TITLES["candidates"],
            "ok" if eligible else "fail",
            f"{total} rule(s) linked to this trunk; {eligible} eligible and matching "
            "(active dialpeer, active rule, unscoped or scoped to this trunk)",
        )
    if winner is None:
        step(
            "match",
            STEP_TITLES["match"],
            "fail",
            f"no eligible rule's code is a prefix of {number}",
        )
        return reject(NO_ROUTE, after("match"))
    d.dialpeer, d.rule = winner.dialpeer, winner.rule
    step(
        "match",
        STEP_TITLES["match"],
        "ok",
        f"{winner.rule.display} via dialpeer {winner.dialpeer.name} — the longest matching code",
    )
    # 8. targets
    specs, clients, slots, network_clients = _load_targets([winner.rule.id])
    ordered, skipped = _targets_for(
        tenant.pk, winner.rule, specs.get(winner.rule.id, []), clients, slots, network_clients
    )
    d.targets, d.skipped_targets = ordered, skipped
    if not ordered:
        step("targets", STEP_TITLES["targets"], "fail", "no usable target")
        return reject(NO_TARGET, after("targets"))
    step(
        "targets",
        STEP_TITLES["targets"],
        "ok",
        f"{len(ordered)} target(s) by {winner.rule.assignment}"
        + (f"; {len(skipped)} skipped" if skipped else ""),
    )
    # 9. rate
    plan = trunk.rate_plan
    if plan is None:
        d.unbilled = True
        step("rate", STEP_TITLES["rate"], "info", "unbilled: trunk has no rate plan")
        return _routed(d, tenant, explain)
    rate = None
    if plan.status == "active":
        rates = Rate.objects.filter(
            rate_plan_id=plan.id, code__in=prefixes, valid_since__lte=at
        ).order_by("-valid_since", "-id")
        table, lengths = rates_table(_rate_ref(r, plan) for r in rates)
        rate = choose_rate(number, table, lengths, at)
    if rate is None:
        why = (
            f"rate plan {plan.name} is disabled"
            if plan.status != "active"
            else f"rate plan {plan.name} has no rate for {number} at {iso_utc(at)}"
        )
        step("rate", STEP_TITLES["rate"], "fail", why)
        return finish(d, NO_RATE)
    d.rate = rate
    step(
        "rate",
        STEP_TITLES["rate"],
        "ok",
        f"{plan.name}: code {rate.code or '* (any)'} at {rate.rate_per_min} {plan.currency}/min",
    )
    return _routed(d, tenant, explain)


def _is_ineligible(why):
    return why in (
        "dialpeer inactive",
        "dialpeer is for another origin customer",
        "rule inactive",
        "rule scoped to another trunk",
        "code does not match",
    )


def _balance_text(customer, tenant):
    cur = getattr(tenant, "currency", "")
    if customer.billing_type == "prepaid":
        return f"prepaid, balance {customer.balance:.2f} {cur} (needs > 0)"
    if customer.credit_unlimited:
        return f"postpaid, unlimited credit (balance {customer.balance:.2f} {cur})"
    text = f"postpaid, balance {customer.balance:.2f} + credit {customer.credit_limit:.2f}"
    if customer.overdraft_allowed:
        text += f" + overdraft {customer.overdraft_limit:.2f}"
    return text + f" {cur} (needs > 0)"


def _targets_for(tenant_id, rule, specs, clients, slots, network_clients):
    entries, skipped = expand_targets(specs, clients, slots, network_clients)
    ordered, dupes = order_targets(
        rule.assignment,
        entries,
        lambda prio, n: round_robin.offset((tenant_id, rule.id, prio)),
    )
    return ordered, skipped + dupes


def _routed(d, tenant, explain):
    finish(d, ROUTED)
    if not explain and d.rule.assignment == PRIORITY:
        round_robin.advance({(tenant.pk, d.rule.id, t.priority) for t in d.targets})
    return d


def _load_targets(rule_ids):
    """Targets of ``rule_ids`` with everything needed to order them (fixed query count)."""
    from routing.models import RoutingTarget, SimSlot, VMGateClient

    specs, client_ids, slot_ids, network_ids = {}, set(), set(), set()
    rows = (
        RoutingTarget.objects.filter(rule_id__in=rule_ids)
        .select_related("network", "client", "sim_slot__client")
        .order_by("priority", "id")
    )
    for t in rows:
        if t.network_id:
            kind, ref, name = "network", t.network_id, t.network.name
            network_ids.add(ref)
        elif t.client_id:
            kind, ref, name = "client", t.client_id, t.client.name
            client_ids.add(ref)
        else:
            kind, ref = "sim_slot", t.sim_slot_id
            name = f"{t.sim_slot.client.name} · slot {t.sim_slot.position}"
            slot_ids.add(ref)
        specs.setdefault(t.rule_id, []).append(
            TargetSpec(t.id, kind, ref, t.priority, t.weight, t.is_active, name)
        )
    slots = (
        {
            s.id: SlotRef(s.id, s.client_id, s.position, s.enabled, s.label)
            for s in SimSlot.objects.filter(id__in=slot_ids)
        }
        if slot_ids
        else {}
    )
    client_ids |= {s.client_id for s in slots.values()}
    clients, network_clients = {}, {}
    if client_ids or network_ids:
        from django.db.models import Q

        for c in VMGateClient.objects.filter(
            Q(id__in=client_ids) | Q(network_id__in=network_ids)
        ).order_by("id"):
            clients[c.id] = _client_ref(c)
            if c.network_id in network_ids:
                network_clients.setdefault(c.network_id, []).append(c.id)
    return specs, clients, slots, network_clients
