"""The routing decision (SPEC §4 and §5): where does this call go, or why is it rejected.

One function, :func:`route_call`, serves live traffic (the JSON API and the SIP edge
through it), the test-call page, routing checks and ``explain=True``. The package:

* ``refs`` — outcomes, the snapshot types and the decision, each field list written once;
* ``steps`` — SPEC §5 once, as an ordered list of steps over a data source, with an
  optional trace (explanations) that records what the steps did and decides nothing;
* ``index`` — the data source: one tenant's routing data in memory, built from the
  database and kept current from the change feed;
* ``feed`` — the change feed: database triggers that log every routing change;
* ``http`` — the route lookup over HTTP: ``RouteView`` (DRF), ``quick_lookup``, the rtjson
  document and the WSGI fast path in front of Django.
"""

import re
from datetime import UTC, datetime

from routing.engine import index
from routing.engine.refs import (  # noqa: F401 - the package's public names
    CUSTOMER_BLOCKED,
    INSUFFICIENT_BALANCE,
    INVALID_NUMBER,
    NO_RATE,
    NO_ROUTE,
    NO_TARGET,
    NUMBER_BLOCKED,
    PRIORITY,
    REASON_LABELS,
    REASONS,
    REJECTED,
    ROUTED,
    SIP_ANSWERS,
    TECH_PREFIX_MISMATCH,
    TRUNK_DISABLED,
    UNKNOWN_SOURCE,
    WEIGHT,
    CandidateResult,
    ClientRef,
    CustomerRef,
    DialpeerRef,
    IngressError,
    LinkRef,
    ListRef,
    RateRef,
    RewriteRef,
    RouteDecision,
    RouteTarget,
    RuleRef,
    SkippedTarget,
    SlotRef,
    Step,
    TargetSpec,
    TrunkRef,
    iso_utc,
    money_text,
)
from routing.engine.steps import (  # noqa: F401
    STEPS,
    decide,
    parse_source_ip,
    round_robin,
)


class CallingNumberError(IngressError):
    """The calling number is not an optional ``+`` and 1–24 digits (a 400 on
    ``calling_number``, a form error on the test-call page)."""


_CALLING = re.compile(r"\+?([0-9]{1,24})")


def calling_digits(value):
    """The calling number's digits (SPEC §9: the syntax of a called number without tech
    prefix), None when not given (None or ""); CallingNumberError otherwise."""
    if value is None or value == "":
        return None
    m = _CALLING.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise CallingNumberError("Enter an optional + and 1–24 digits 0-9.")
    return m.group(1)


def normalise_at(at):
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime):
        raise IngressError("The call time must be a datetime.")
    if at.tzinfo is None:
        # Naive times are UTC, like every time in rate plans.
        return at.replace(tzinfo=UTC)
    return at


def route_call(
    tenant,
    *,
    called_number,
    trunk=None,
    source_ip=None,
    at=None,
    explain=False,
    calling_number=None,
):
    """Decide where a call goes, or why it is rejected (SPEC §5 and §9).

    Exactly one of ``trunk`` (a Trunk of ``tenant`` or its id) and ``source_ip`` (a string)
    identifies the ingress; ``at`` (default now; naive = UTC) picks the rate and opens or
    shuts schedules; ``calling_number`` (the From user part, optional) is checked by the
    trunk's calling-number lists. With
    ``explain=True`` the same steps run over the same index and also record each step,
    every candidate rule and why it lost and every skipped target; such a decision never
    advances the round-robin. Raises :class:`IngressError` for a malformed ingress
    (both/neither given, an unparsable IP, a trunk of another tenant or a missing one),
    :class:`CallingNumberError` (an IngressError) for a calling number that is not one.
    """
    tenant_id = getattr(tenant, "pk", None)
    if tenant_id is None:
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
            if trunk_id is None or getattr(trunk, "tenant_id", tenant_id) != tenant_id:
                raise IngressError("Unknown trunk.")
    ip = parse_source_ip(source_ip) if source_ip is not None else None
    calling = calling_digits(calling_number)
    at = normalise_at(at)
    source = index.get_index(tenant_id)
    if explain:
        currency = getattr(tenant, "currency", "")
        return decide(source, called_number, trunk_id, ip, at, True, currency, calling)
    return decide(source, called_number, trunk_id, ip, at, False, "", calling)
