"""Running routing checks: decide, compare with the expectation, record the result."""

from django.utils import timezone

from routing.engine import REASON_LABELS, route_call


def decide(check):
    return route_call(
        check.tenant,
        called_number=check.called_number,
        trunk=check.trunk if check.trunk_id else None,
        source_ip=check.source_ip or None,
        at=check.at,
        explain=True,
        calling_number=check.calling_number or None,
    )


def differences(check, decision):
    """What differs between the check's expectation and ``decision`` (empty: pass)."""
    out = []
    if decision.outcome != check.expected_outcome:
        out.append(
            f"outcome: expected {check.expected_outcome}, got {decision.outcome} "
            f"({REASON_LABELS.get(decision.reason, decision.reason)})"
        )
    elif check.expected_reason and decision.reason != check.expected_reason:
        out.append(
            f"reason: expected {REASON_LABELS.get(check.expected_reason, check.expected_reason)}"
            f", got {REASON_LABELS.get(decision.reason, decision.reason)}"
        )
    if check.expected_rule_id and (
        decision.rule is None or decision.rule.id != check.expected_rule_id
    ):
        got = decision.rule.display if decision.rule else "no rule"
        out.append(f"rule: expected {check.expected_rule}, got {got}")
    return out


def record_result(check, decision):
    """Store the outcome of one run on the check (without a history record: a run is not an
    edit of the check)."""
    diffs = differences(check, decision)
    check.last_passed = not diffs
    check.last_result = {
        "outcome": decision.outcome,
        "reason": decision.reason,
        "sip_code": decision.sip_code,
        "summary": decision.summary,
        "rule": {"id": decision.rule.id, "name": decision.rule.display} if decision.rule else None,
        "dialpeer": (
            {"id": decision.dialpeer.id, "name": decision.dialpeer.name}
            if decision.dialpeer
            else None
        ),
        "trunk": {"id": decision.trunk.id, "name": decision.trunk.name} if decision.trunk else None,
        "differences": diffs,
    }
    check.last_run_at = timezone.now()
    check.skip_history_when_saving = True
    try:
        check.save(update_fields=["last_passed", "last_result", "last_run_at"])
    finally:
        del check.skip_history_when_saving
    return check


def run_check(check):
    return record_result(check, decide(check))


def checks_queryset(qs):
    return qs.select_related(
        "tenant", "trunk__customer", "expected_rule__trunk__customer"
    ).order_by("name", "id")


def run_checks(qs):
    """Run every check of ``qs``; returns them with their fresh results."""
    return [run_check(check) for check in checks_queryset(qs)]
