"""SPEC §9's rules as pure functions (routing/policy.py), no database: what a translation
rule may be, how a set applies, how a list matches, when a schedule is open."""

from datetime import UTC, datetime, time

import pytest

from routing import policy
from routing.policy import (
    CHOICE_LIMIT,
    ListMatcher,
    PolicyError,
    compile_match,
    compile_replace,
    compile_rule,
    compile_schedule,
    list_verdict,
    translate,
    week_grid,
)

# --- what a rule may be -------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    ["0([0-9]+)", "00([0-9]{6,20})", r"(?:00|\+)?374([0-9]{8})", "(?P<rest>[0-9]+)", "[0-9]*1"],
)
def test_ordinary_patterns_are_accepted(pattern):
    assert compile_match(pattern).pattern == pattern


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(", "Not a valid regular expression"),
        ("[0-9", "Not a valid regular expression"),
        ("x" * 201, "At most 200 characters"),
        ("", "Enter a regular expression"),
        (r"(0)\1", "Backreferences"),
        (r"(?P<a>0)(?P=a)", "Backreferences"),
        (r"(0)?(?(1)1|2)", "Backreferences"),
        ("(0+)+1", "backtrack too much"),
        ("(0|00)*1", "backtrack too much"),
        ("([0-9]*)*", "backtrack too much"),
        ("0*0*0*0*1", "backtrack too much"),
        ("a\x00", "Null characters"),
    ],
)
def test_unsafe_or_broken_patterns_are_refused_with_the_reason(pattern, says):
    with pytest.raises(PolicyError, match=says):
        compile_match(pattern)


def test_the_bound_counts_the_ways_a_pattern_can_split_a_number():
    """What the check bounds (bench/regex_worst.py times the worst accepted ones): each
    open-ended repetition can take 0–24 digits, a bounded one its range, alternatives add."""

    def bound(pattern):
        return policy.choice_bound(policy.sre_parse.parse(pattern).data)

    assert bound("0([0-9]+)") == 24
    assert bound("[0-9]*[0-9]*1") == 25 * 25
    assert bound("[0-9]*[0-9]*[0-9]{0,7}1") == 25 * 25 * 8 == CHOICE_LIMIT
    assert bound("(?:00|0)?1") == 4  # an upper bound: (0 or 1 times) × 2 ways each
    assert bound("[0-9]*[0-9]*[0-9]*1") > CHOICE_LIMIT
    compile_match("[0-9]*[0-9]*[0-9]{0,7}1")  # at the limit: accepted


@pytest.mark.parametrize(
    ("replace", "says"),
    [
        (r"\2", "no group 2"),
        (r"\g<9>", "no group 9"),
        (r"\g<name>", "no group named"),
        (r"+\1", "digits only"),
        (r"1 2", "digits only"),
        (r"\n", "Unknown escape"),
        (r"\0", "no group 0"),
    ],
)
def test_replacements_that_cannot_make_a_number_are_refused(replace, says):
    with pytest.raises(PolicyError, match=says):
        compile_replace(replace, compile_match("0([0-9]+)"))


def test_a_replacement_uses_numbered_and_named_groups():
    m = compile_match("(?P<cc>00)?374([0-9]+)")
    t = compile_replace(r"374\2\g<2>", m)
    assert t.expand(m.fullmatch("374123")) == "374123123"
    # a group that did not take part is empty, as in re.sub
    t = compile_replace(r"\g<cc>9", m)
    assert t.expand(m.fullmatch("374123")) == "9"


# --- applying a set ----------------------------------------------------------------------


def rules(*specs):
    return [compile_rule(i + 1, i + 1, m, r, stop) for i, (m, r, stop) in enumerate(specs)]


def test_the_first_matching_rule_replaces_and_stop_ends_the_set():
    s = rules(("0([0-9]+)", r"374\1", True), ("374([0-9]+)", r"\1", True))
    result, fired = translate(s, "091234567")
    assert result == "37491234567"
    assert [r.position for r, _, _ in fired] == [1]


def test_without_stop_the_next_rules_see_the_new_number():
    s = rules(("0([0-9]+)", r"374\1", False), ("374([0-9]+)", r"00374\1", True))
    tried = []
    result, fired = translate(s, "091234567", tried)
    assert result == "0037491234567"
    assert [(t.rule.position, t.before, t.matched, t.after) for t in tried] == [
        (1, "091234567", True, "37491234567"),
        (2, "37491234567", True, "0037491234567"),
    ]


def test_the_match_is_against_the_whole_number():
    s = rules(("374", "1", True))
    assert translate(s, "37412")[0] == "37412"  # a prefix is not a whole-number match
    assert translate(s, "374")[0] == "1"


def test_no_rule_matching_leaves_the_number_unchanged():
    assert translate(rules(("0([0-9]+)", r"\1", True)), "37412") == ("37412", [])


@pytest.mark.parametrize(
    ("match", "replace", "number"),
    [("([0-9]+)", "", "123"), ("([0-9]+)", r"\1\1", "1" * 13), ("0([0-9]*)", r"\1", "0")],
)
def test_a_result_that_is_not_1_to_24_digits_is_no_number(match, replace, number):
    s = rules((match, replace, False), ("([0-9]*)", "5", True))
    result, fired = translate(s, number)
    assert result is None
    assert len(fired) == 1  # no later rule saw it


# --- number lists --------------------------------------------------------------------------


def test_exact_entries_match_only_the_whole_number_and_prefixes_start_it():
    m = ListMatcher([("900", "prefix"), ("37412345", "exact"), ("9001", "prefix")])
    assert m.find("37412345") == ("37412345", "exact")
    assert m.find("374123456") is None
    assert m.find("90012") == ("9001", "prefix")  # the longest prefix
    assert m.find("9009") == ("900", "prefix")
    assert m.find("90") is None


def test_deny_blocks_on_a_match_and_allow_blocks_without_one():
    m = ListMatcher([("900", "prefix")])
    assert list_verdict("deny", "called", m, "9001", None) == (True, ("900", "prefix"))
    assert list_verdict("deny", "called", m, "3741", None) == (False, None)
    assert list_verdict("allow", "called", m, "9001", None) == (False, ("900", "prefix"))
    assert list_verdict("allow", "called", m, "3741", None) == (True, None)


def test_a_calling_list_without_a_calling_number_denies_nothing_and_allows_nothing():
    m = ListMatcher([("374", "prefix")])
    assert list_verdict("deny", "calling", m, "3741", None)[0] is False
    assert list_verdict("allow", "calling", m, "3741", None)[0] is True
    assert list_verdict("allow", "calling", m, "999", "3741")[0] is False


# --- schedules ---------------------------------------------------------------------------


def sched(tz, *windows):
    return compile_schedule(1, "s", tz, windows)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_window_is_open_from_its_start_until_before_its_end_on_its_weekdays():
    s = sched("UTC", ([1, 2, 3, 4, 5], time(9), time(17)))
    assert s.is_open(at("2026-12-07T09:00"))  # Monday
    assert s.is_open(at("2026-12-07T16:59"))
    assert not s.is_open(at("2026-12-07T17:00"))
    assert not s.is_open(at("2026-12-07T08:59"))
    assert not s.is_open(at("2026-12-05T12:00"))  # Saturday


def test_a_window_past_midnight_counts_for_the_day_it_started():
    s = sched("UTC", ([5], time(22), time(2)))  # Friday 22:00 → Saturday 02:00
    assert s.is_open(at("2026-12-04T22:30"))  # Friday
    assert s.is_open(at("2026-12-05T01:59"))  # Saturday, from Friday's window
    assert not s.is_open(at("2026-12-05T02:00"))
    assert not s.is_open(at("2026-12-05T22:30"))  # Saturday's own evening: not listed
    assert not s.is_open(at("2026-12-04T01:00"))  # Friday early: Thursday not listed


def test_sunday_night_windows_run_into_monday():
    s = sched("UTC", ([7], time(23), time(1)))
    assert s.is_open(at("2026-12-07T00:30"))  # Monday 00:30, from Sunday


def test_an_end_equal_to_the_start_is_a_whole_day_from_the_start():
    s = sched("UTC", ([3], time(8), time(8)))
    assert s.is_open(at("2026-12-09T08:00"))  # Wednesday
    assert s.is_open(at("2026-12-10T07:59"))  # Thursday, still Wednesday's window
    assert not s.is_open(at("2026-12-10T08:00"))


def test_local_time_follows_the_zone_across_a_daylight_saving_change():
    """Europe/Berlin: 09:00–10:00 local is 08:00 UTC in winter, 07:00 UTC in summer; the
    change on Sunday 29 March 2026 moves it."""
    s = sched("Europe/Berlin", ([1, 2, 3, 4, 5, 6, 7], time(9), time(10)))
    assert s.is_open(at("2026-03-28T08:30"))  # Saturday, CET: 09:30 local
    assert not s.is_open(at("2026-03-28T07:30"))
    assert s.is_open(at("2026-03-30T07:30"))  # Monday, CEST: 09:30 local
    assert not s.is_open(at("2026-03-30T08:30"))  # 10:30 local


def test_the_hour_that_does_not_exist_is_never_open_and_the_repeated_one_is_open_twice():
    spring = sched("Europe/Berlin", ([7], time(2), time(3)))  # 02:00–03:00 skipped on 29 Mar
    assert not any(
        spring.is_open(at(f"2026-03-29T{h:02d}:{m:02d}")) for h in range(0, 3) for m in (0, 30)
    )
    autumn = sched("Europe/Berlin", ([7], time(2), time(3)))  # 02:00–03:00 twice on 25 Oct
    assert autumn.is_open(at("2026-10-25T00:30"))  # 02:30 CEST
    assert autumn.is_open(at("2026-10-25T01:30"))  # 02:30 CET


def test_unknown_zones_and_bad_weekdays_are_refused():
    with pytest.raises(PolicyError, match="IANA"):
        policy.zone("Mars/Olympus")
    with pytest.raises(PolicyError, match="at least one weekday"):
        policy.check_weekdays([])
    with pytest.raises(PolicyError, match="1–7"):
        policy.check_weekdays([0, 8])
    with pytest.raises(PolicyError, match="1–7"):
        policy.check_weekdays(["1"])
    with pytest.raises(PolicyError, match="twice"):
        policy.check_weekdays([1, 1])


def test_the_week_grid_shades_an_overnight_window_on_both_days():
    grid = dict(week_grid(sched("UTC", ([5], time(22), time(2)))))
    assert [h for h, on in enumerate(grid["Fri"]) if on] == [22, 23]
    assert [h for h, on in enumerate(grid["Sat"]) if on] == [0, 1]
    assert not any(grid["Thu"])
