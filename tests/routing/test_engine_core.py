"""The engine's pure core (no database): numbers, ranking, target order, rate choice."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.models import balance_refusal
from routing.engine import ClientRef, CustomerRef, LinkRef, RateRef, SlotRef, TargetSpec
from routing.engine.steps import (
    candidate_prefixes,
    choose_rate,
    expand_targets,
    longest_match,
    order_targets,
    pick_ingress_trunk,
    rank_candidates,
    rates_table,
    raw_number_ok,
    stripped_digits,
)


@pytest.mark.parametrize("raw", ["37412345", "9#*+37412345", "+374", "1" * 40, "#", "*"])
def test_raw_numbers_of_0_9_hash_star_plus_up_to_40_chars_pass(raw):
    assert raw_number_ok(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "1" * 41, "374 123", "374-123", "37a4", "٣٧٤", "３７４", "374\x00", "374\n", None, 374],
)
def test_anything_else_is_an_invalid_raw_number(raw):
    assert not raw_number_ok(raw)


@pytest.mark.parametrize(
    "rest, digits",
    [("37412345", "37412345"), ("+37412345", "37412345"), ("1" * 24, "1" * 24), ("0", "0")],
)
def test_after_the_tech_prefix_an_optional_plus_and_1_to_24_digits(rest, digits):
    assert stripped_digits(rest) == digits


@pytest.mark.parametrize("rest", ["", "+", "1" * 25, "++1", "1+2", "#1", "1*", "١٢"])
def test_other_rests_are_invalid(rest):
    assert stripped_digits(rest) is None


def test_candidate_prefixes_run_longest_first_down_to_the_catch_all():
    assert candidate_prefixes("3741") == ["3741", "374", "37", "3", ""]
    assert len(candidate_prefixes("1" * 24)) == 16  # codes have at most 15 digits


def test_ingress_prefers_longest_tech_prefix_then_most_specific_network_then_lowest_id():
    assert pick_ingress_trunk("99123", [(1, "9", 32), (2, "99", 8)]) == 2
    assert pick_ingress_trunk("99123", [(1, "99", 16), (2, "99", 24)]) == 2
    assert pick_ingress_trunk("99123", [(5, "99", 24), (3, "99", 24)]) == 3
    assert pick_ingress_trunk("123", [(1, "9", 32)]) is None


@pytest.mark.parametrize(
    "kind, balance, limit, unlimited, od, od_limit, ok",
    [
        ("prepaid", "0.01", "0", False, False, "0", True),
        ("prepaid", "0", "1000", True, True, "1000", False),
        ("postpaid", "-50", "49", False, False, "0", False),
        ("postpaid", "-50", "51", False, False, "0", True),
        ("postpaid", "-50", "40", False, True, "20", True),
        ("postpaid", "-50", "40", False, False, "20", False),
        ("postpaid", "-1000000", "0", True, False, "0", True),
    ],
)
def test_balance_rules(kind, balance, limit, unlimited, od, od_limit, ok):
    # The engine's snapshot goes through the customers' one rule (customers.models).
    ref = CustomerRef(
        1, "c", "active", kind, Decimal(balance), Decimal(limit), unlimited, od, Decimal(od_limit)
    )
    assert ref.can_take_calls() is ok
    assert (balance_refusal(ref) is None) is ok


def cand(dp_id, code, *, active=True, rule_active=True, scope=None, customer=1, rule_id=None):
    return LinkRef(dp_id, rule_id or dp_id, code, active, customer, rule_active, scope)


def test_longest_matching_code_wins_and_losers_say_why():
    cands = [cand(1, ""), cand(2, "37"), cand(3, "374"), cand(4, "39")]
    winner, results = rank_candidates("37412345", cands, trunk_id=10, customer_id=1)
    assert winner.code == "374"
    why = {r.dialpeer.id: r.why for r in results}
    assert why[3] == ""
    assert why[2].startswith("shorter than the winner")
    assert why[1].startswith("shorter than the winner")
    assert why[4] == "code does not match"


def test_ineligible_rows_never_win_even_with_a_longer_code():
    cands = [
        cand(1, "37"),
        cand(2, "3741", active=False),
        cand(3, "37412", rule_active=False),
        cand(4, "374123", scope=99),
        cand(5, "3741234", customer=2),
    ]
    winner, results = rank_candidates("37412345", cands, trunk_id=10, customer_id=1)
    assert winner.dialpeer_id == 1
    why = {r.dialpeer.id: r.why for r in results}
    assert why[2] == "dialpeer inactive"
    assert why[3] == "rule inactive"
    assert why[4] == "rule scoped to another trunk"
    assert why[5] == "dialpeer is for another origin customer"


def test_tie_trunk_scoped_rule_beats_unscoped_with_the_same_code():
    winner, results = rank_candidates(
        "3741", [cand(1, "374"), cand(2, "374", scope=10)], trunk_id=10, customer_id=1
    )
    assert winner.dialpeer_id == 2
    assert "scoped to this trunk" in {r.dialpeer.id: r.why for r in results}[1]


def test_tie_between_equals_goes_to_the_lowest_dialpeer_id():
    winner, results = rank_candidates(
        "3741", [cand(7, "374"), cand(3, "374")], trunk_id=10, customer_id=1
    )
    assert winner.dialpeer_id == 3
    assert "lower id (#3)" in {r.dialpeer.id: r.why for r in results}[7]


def test_catch_all_matches_every_number_as_the_shortest_match():
    winner, _ = rank_candidates("4412345", [cand(1, ""), cand(2, "374")], 10, 1)
    assert winner.dialpeer_id == 1


def test_a_code_longer_than_the_number_never_matches():
    winner, _ = rank_candidates("374", [cand(1, "3741")], 10, 1)
    assert winner is None


def test_longest_match_probes_only_present_lengths():
    table = {"374": "a", "3": "b", "": "c"}
    assert longest_match("37412", table, (3, 1, 0)) == ("374", "a")
    assert longest_match("35", table, (3, 1, 0)) == ("3", "b")
    assert longest_match("5", table, (3, 1, 0)) == ("", "c")
    assert longest_match("5", {"374": 1}, (3,)) is None


# --- brute-force oracle for the ranking ------------------------------------------------------


def oracle(number, cands, trunk_id, customer_id):
    best = None
    for c in cands:
        if not (c.dialpeer_active and c.rule_active and c.customer_id == customer_id):
            continue
        if c.rule_trunk_id not in (None, trunk_id):
            continue
        if len(c.code) > len(number) or number[: len(c.code)] != c.code:
            continue
        key = (len(c.code), 1 if c.rule_trunk_id else 0, -c.dialpeer_id)
        if best is None or key > best[0]:
            best = (key, c)
    return best[1] if best else None


codes = st.text(alphabet="0123", max_size=4)


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            codes,
            st.booleans(),
            st.booleans(),
            st.sampled_from([None, 10, 11]),
            st.sampled_from([1, 1, 1, 2]),
        ),
        max_size=12,
    ),
    number=st.text(alphabet="0123", min_size=1, max_size=6),
)
def test_ranking_matches_a_brute_force_oracle(rows, number):
    cands = [
        cand(i + 1, code, active=a, rule_active=ra, scope=scope, customer=cust)
        for i, (code, a, ra, scope, cust) in enumerate(rows)
    ]
    winner, results = rank_candidates(number, cands, trunk_id=10, customer_id=1)
    expected = oracle(number, cands, 10, 1)
    assert (winner and winner.dialpeer_id) == (expected and expected.dialpeer_id)
    assert len(results) == len(cands)
    assert sum(r.won for r in results) == (1 if expected else 0)
    # the index's dict probe agrees with the ranking (one best entry per code)
    table = {}
    for c in sorted(cands, key=lambda c: (0 if c.rule_trunk_id else 1, c.dialpeer_id)):
        if (
            c.dialpeer_active
            and c.rule_active
            and c.customer_id == 1
            and c.rule_trunk_id in (None, 10)
        ):
            table.setdefault(c.code, c)
    lengths = tuple(sorted({len(k) for k in table}, reverse=True))
    hit = longest_match(number, table, lengths)
    assert (hit and hit[1].dialpeer_id) == (expected and expected.dialpeer_id)


# --- targets -------------------------------------------------------------------------------


def client(i, calls=0, status="ready", network=1):
    return ClientRef(i, f"gw{i}", f"sip:10.0.0.{i}:5060", status, calls, network)


def test_weight_mode_least_loaded_then_higher_weight_then_client_id():
    clients = {1: client(1, 5), 2: client(2, 1), 3: client(3, 1), 4: client(4, 1)}
    specs = [
        TargetSpec(10, "client", 1, weight=100),
        TargetSpec(11, "client", 2, weight=1),
        TargetSpec(12, "client", 3, weight=50),
        TargetSpec(13, "client", 4, weight=50),
    ]
    entries, skipped = expand_targets(specs, clients, {}, {})
    ordered, _ = order_targets("weight", entries)
    assert [t.client.id for t in ordered] == [3, 4, 2, 1]


def test_network_expands_to_ready_clients_and_a_client_appears_once_at_its_best_position():
    clients = {1: client(1, 2), 2: client(2, 0, status="off"), 3: client(3, 1)}
    slots = {50: SlotRef(50, 3, 2)}
    specs = [
        TargetSpec(10, "network", 1, weight=1, ref_name="net"),
        TargetSpec(11, "sim_slot", 50, weight=10, ref_name="gw3 slot 2"),
    ]
    entries, skipped = expand_targets(specs, clients, slots, {1: [1, 2, 3]})
    ordered, dupes = order_targets("weight", entries)
    assert [(t.client.id, t.sim_slot and t.sim_slot.position) for t in ordered] == [
        (3, 2),
        (1, None),
    ]
    assert [s.reason for s in skipped] == ["client gw2 is off"]
    assert dupes[0].target_id == 10 and "already placed by target #11" in dupes[0].reason


def test_unusable_targets_are_skipped_with_their_reason():
    clients = {1: client(1, status="no_dongle"), 2: client(2)}
    slots = {5: SlotRef(5, 2, 1, enabled=False)}
    specs = [
        TargetSpec(1, "client", 1),
        TargetSpec(2, "sim_slot", 5),
        TargetSpec(3, "client", 2, is_active=False),
        TargetSpec(4, "network", 9),
    ]
    entries, skipped = expand_targets(specs, clients, slots, {})
    assert entries == []
    assert [s.reason for s in skipped] == [
        "client gw1 has no dongle",
        "SIM slot disabled",
        "target inactive",
        "network has no clients",
    ]


def test_priority_mode_lower_first_and_rotates_within_a_level():
    clients = {i: client(i, calls=10 - i) for i in range(1, 5)}
    specs = [
        TargetSpec(10, "client", 1, priority=1),
        TargetSpec(11, "client", 2, priority=0),
        TargetSpec(12, "client", 3, priority=0),
        TargetSpec(13, "client", 4, priority=0),
    ]
    entries, _ = expand_targets(specs, clients, {}, {})
    orders = [
        [t.client.id for t in order_targets("priority", entries, lambda p, n, k=k: k)[0]]
        for k in range(4)
    ]
    assert orders == [[2, 3, 4, 1], [3, 4, 2, 1], [4, 2, 3, 1], [2, 3, 4, 1]]


# --- rates ---------------------------------------------------------------------------------


def rate(i, code, since, price):
    return RateRef(i, 1, "Retail", "USD", code, "", since, Decimal(price), Decimal(0), 0, 1)


def test_rate_longest_code_then_latest_valid_since_not_after_the_call():
    jan, feb, mar = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3))
    table, lengths = rates_table(
        [
            rate(1, "374", jan, "0.1"),
            rate(2, "374", mar, "0.3"),
            rate(3, "3741", mar, "0.5"),
            rate(4, "", jan, "1"),
        ]
    )
    assert choose_rate("37412", table, lengths, feb).id == 1
    assert choose_rate("37412", table, lengths, mar).id == 3
    assert choose_rate("37512", table, lengths, mar).id == 4
    assert choose_rate("37512", table, lengths, datetime(2025, 1, 1, tzinfo=UTC)) is None
