"""What a decision is made of and what it answers: outcomes, snapshots and the decision.

Snapshots (``TrunkRef``, ``LinkRef``…) are light, immutable records, not model instances:
they carry ids, display names and the state the decision used. Each field list is written
once, here: the index loads exactly these columns (:func:`columns`), ``as_dict`` and the API
serializers (``routing.engine.http``) are derived from the same lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal

from customers.models import balance_refusal
from routing.models import code_display
from vmgate.links import url_or_blank

# --- outcomes ------------------------------------------------------------------------------

ROUTED, REJECTED = "routed", "rejected"

INVALID_NUMBER = "invalid_number"
UNKNOWN_SOURCE = "unknown_source"
TECH_PREFIX_MISMATCH = "tech_prefix_mismatch"
TRUNK_DISABLED = "trunk_disabled"
CUSTOMER_BLOCKED = "customer_blocked"
INSUFFICIENT_BALANCE = "insufficient_balance"
NUMBER_BLOCKED = "number_blocked"
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
    NUMBER_BLOCKED: (403, "Forbidden"),
    NO_ROUTE: (404, "No Route"),
    NO_TARGET: (503, "Service Unavailable"),
    NO_RATE: (403, "Forbidden"),
}

#: Every reason, in the order of SPEC §5 (the API's enum).
REASONS = list(SIP_ANSWERS)

REASON_LABELS = {reason: reason.replace("_", " ") for reason in SIP_ANSWERS}

READY = "ready"
WEIGHT, PRIORITY = "weight", "priority"


class IngressError(ValueError):
    """The call's ingress is malformed: both/neither of trunk and source IP, an unparsable
    IP, or a trunk that is not this tenant's. Callers turn it into a 400 / form error."""


def columns(cls):
    """The field names of a snapshot type, in order: the columns its loader reads."""
    return tuple(f.name for f in fields(cls))


def snapshot(cls, obj):
    """A snapshot of type ``cls`` of a model instance (or anything with those attributes)."""
    return cls(*(getattr(obj, name) for name in columns(cls)))


def iso_utc(value):
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money_text(value):
    """``0.012500`` → ``0.0125``, ``1.000000`` → ``1.00``: as many decimals as it has, ≥ 2."""
    text = f"{value:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        text = f"{whole}.{frac}"
    return text


def contact_uri(sip_uri, number):
    """``sip:10.8.0.12:5060`` + ``37412345`` → ``sip:37412345@10.8.0.12:5060`` (a user part
    already in the URI is replaced; URI parameters are kept). None without a usable URI."""
    scheme, sep, rest = (sip_uri or "").partition(":")
    if not sep or scheme.lower() not in ("sip", "sips") or not rest:
        return None
    hostport = rest.rsplit("@", 1)[-1]
    if not hostport:
        return None
    return f"{scheme.lower()}:{number}@{hostport}"


# --- snapshots -----------------------------------------------------------------------------


class _Ref:
    """What the snapshots share with model instances in templates and links: ``pk``,
    ``str()`` (the name) and ``get_absolute_url()`` (from ``url_name``; "" without one)."""

    __slots__ = ()
    url_name = ""
    #: the fields ``as_dict`` gives (None: all of them)
    public = None

    @property
    def pk(self):
        return self.id

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return url_or_blank(self.url_name, self.id) if self.url_name else ""

    def as_dict(self):
        names = self.public if self.public is not None else columns(type(self))
        return {name: getattr(self, name) for name in names}


# RuleRef, DialpeerRef and RouteTarget are built on every decision, so they are not frozen
# (a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, about
# three times the cost): "per decision" below. Nothing changes them once built, and they
# hash by value as frozen ones do.


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
    public = ("id", "name")

    def can_take_calls(self):
        """SPEC §5 step 5, by the customers' one balance rule."""
        return balance_refusal(self) is None


@dataclass(frozen=True, slots=True)
class TrunkRef(_Ref):
    id: int
    name: str
    tech_prefix: str
    status: str
    customer_id: int
    rate_plan_id: int | None
    ingress_translation_id: int | None = None

    url_name = "customers:trunk_detail"
    public = ("id", "name", "tech_prefix")


@dataclass(slots=True, eq=True)
class LinkRef:
    """A dialpeer linking a trunk to a rule, with the state steps 6–7 judge it by.

    Not frozen (a million of them are built at a cold start; a frozen dataclass's
    ``__init__`` costs three times as much) but never changed once built."""

    dialpeer_id: int
    rule_id: int
    code: str
    dialpeer_active: bool
    customer_id: int | None
    rule_active: bool
    rule_trunk_id: int | None
    # What an explanation shows of it (read with the link, so explaining asks nothing).
    name: str = ""
    label: str = ""
    assignment: str = "weight"
    schedule_id: int | None = None  # the rule's schedule (SPEC §9): None = always


#: What the index reads for a link: (dialpeer column, …) in LinkRef's order.
LINK_SOURCE = ("id", "rule_id", "rule__code", "is_active", "customer_id", "rule__is_active")
LINK_SOURCE += ("rule__trunk_id", "name", "rule__label", "rule__assignment", "rule__schedule_id")


@dataclass(slots=True, unsafe_hash=True)  # per decision: not frozen (see above)
class RuleRef(_Ref):
    id: int
    code: str
    label: str
    assignment: str = WEIGHT
    trunk_id: int | None = None
    is_active: bool = True

    url_name = "routing:routingrule_detail"
    public = ("id", "code", "label", "name", "assignment", "trunk_id")

    @property
    def display(self):
        return code_display(self.code, self.label)

    name = display

    def __str__(self):
        return self.display


@dataclass(slots=True, unsafe_hash=True)  # per decision: not frozen (see above)
class DialpeerRef(_Ref):
    id: int
    name: str
    is_active: bool = True
    customer_id: int | None = None
    trunk_id: int | None = None
    rule_id: int | None = None

    url_name = "dialpeers:dialpeer_detail"
    public = ("id", "name")


@dataclass(frozen=True, slots=True)
class ClientRef(_Ref):
    id: int
    name: str
    sip_uri: str
    status: str
    active_calls: int
    network_id: int | None = None

    url_name = "routing:vmgateclient_detail"
    public = ("id", "name", "sip_uri", "active_calls")


@dataclass(frozen=True, slots=True)
class SlotRef(_Ref):
    id: int
    client_id: int
    position: int
    enabled: bool = True
    label: str = ""

    public = ("id", "position")

    def __str__(self):
        return f"slot {self.position}"


@dataclass(slots=True, unsafe_hash=True)
class TargetSpec:
    """One RoutingTarget row: exactly one of network/client/SIM slot (``kind`` + ``ref_id``).

    Not frozen, as LinkRef (1.1 million are built at a cold start at 1M dialpeers: a frozen
    ``__init__`` cost 1.05 µs each, this one 0.3, ~0.8 s of the route service's start) but
    never changed once built."""

    id: int
    kind: str  # "network" | "client" | "sim_slot"
    ref_id: int
    priority: int = 0
    weight: int = 1
    is_active: bool = True
    ref_name: str = ""
    schedule_id: int | None = None  # SPEC §9: outside its schedule the target is skipped


@dataclass(slots=True, unsafe_hash=True)  # built by the hundred thousand: see TargetSpec
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


#: The rate columns the index reads (the plan's name and currency come from the plan).
RATE_COLUMNS = ("id", "rate_plan_id") + columns(RateRef)[4:]


@dataclass(slots=True, unsafe_hash=True)  # per decision: not frozen (see above)
class RouteTarget:
    """One Contact of a routed call, in order: the client, the SIM slot if a slot target
    placed it, and the number it dials (the decision's number, translated by the egress
    set of the client's network: SPEC §9)."""

    client: ClientRef
    sim_slot: SlotRef | None
    target_id: int
    via: str  # kind of the target that placed the client
    priority: int
    weight: int
    number: str = ""

    @property
    def contact(self):
        """The Contact URI the SIP edge sends for this target, or None (no usable URI)."""
        return contact_uri(self.client.sip_uri, self.number)

    def as_dict(self):
        return {
            "number": self.number,
            "client": self.client.as_dict(),
            "sim_slot": self.sim_slot.as_dict() if self.sim_slot else None,
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
        return {name: getattr(self, name) for name in columns(SkippedTarget)}


@dataclass(frozen=True, slots=True)
class CandidateResult:
    """A linked rule as an explanation lists it: whether it won, and why it lost."""

    dialpeer: DialpeerRef
    rule: RuleRef
    won: bool
    why: str  # "" for the winner

    def as_dict(self):
        return {
            "dialpeer": self.dialpeer.as_dict() | {"is_active": self.dialpeer.is_active},
            "rule": self.rule.as_dict() | {"is_active": self.rule.is_active},
            "won": self.won,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class ListRef(_Ref):
    """The number list that refused a call (SPEC §9 step 5b)."""

    id: int
    name: str
    kind: str
    applies_to: str

    url_name = "routing:numberlist_detail"


@dataclass(frozen=True, slots=True)
class RewriteRef:
    """One translation that fired, as an explanation shows it: where (``ingress`` or the
    egress of a network), the set, the rule and the number before → after."""

    stage: str
    set_id: int
    set_name: str
    rule_id: int
    position: int
    match: str
    replace: str
    before: str
    after: str

    def as_dict(self):
        return {name: getattr(self, name) for name in columns(RewriteRef)}


@dataclass(slots=True)
class Step:
    """One step of SPEC §5 as an explanation shows it: passed, failed or not reached."""

    key: str
    title: str
    status: str  # "ok" | "fail" | "skip" | "info"
    detail: str = ""

    def as_dict(self):
        return {name: getattr(self, name) for name in columns(Step)}


# --- the decision --------------------------------------------------------------------------


@dataclass(slots=True)
class RouteDecision:
    """The answer of ``route_call`` (SPEC §5). The sequences are set by the steps that
    find them (a live decision allocates none it does not fill); the trace owns ``steps``."""

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
    targets: Sequence = ()
    rate: RateRef | None = None
    unbilled: bool = False
    at: datetime | None = None
    explain: bool = False
    candidates: Sequence = ()
    candidates_omitted: int = 0
    skipped_targets: Sequence = ()
    steps: Sequence = ()
    source_ip: str | None = None
    calling_number: str | None = None
    number_list: ListRef | None = None
    rewrites: Sequence = ()  # explained: every translation that fired

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

    @property
    def deciding_step(self):
        """The explained step that rejected the call (None when routed or not explained)."""
        for step in self.steps:
            if step.status == "fail":
                return step
        return None

    @property
    def candidates_reached(self):
        """Whether the decision got as far as looking at the trunk's linked rules."""
        return any(s.key == "candidates" and s.status != "skip" for s in self.steps)

    def as_dict(self):
        data = {
            "outcome": self.outcome,
            "reason": self.reason,
            "sip_code": self.sip_code,
            "sip_reason": self.sip_reason,
            "called_number": self.called_number,
            "number": self.number,
            "calling_number": self.calling_number,
            "at": iso_utc(self.at),
            "customer": self.customer.as_dict() if self.customer else None,
            "trunk": self.trunk.as_dict() if self.trunk else None,
            "dialpeer": self.dialpeer.as_dict() if self.dialpeer else None,
            "rule": self.rule.as_dict() if self.rule else None,
            "targets": [t.as_dict() for t in self.targets],
            "rate": self.rate.as_dict() if self.rate else None,
            "unbilled": self.unbilled,
            "number_list": self.number_list.as_dict() if self.number_list else None,
        }
        if self.explain:
            data["rewrites"] = [r.as_dict() for r in self.rewrites]
            data["candidates"] = [c.as_dict() for c in self.candidates]
            data["candidates_omitted"] = self.candidates_omitted
            data["skipped_targets"] = [s.as_dict() for s in self.skipped_targets]
            data["steps"] = [s.as_dict() for s in self.steps]
        return data
