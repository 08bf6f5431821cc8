"""The slowest translation rules SPEC §9's safety check still accepts, timed on the numbers
that make them backtrack most (issue 18: "measure the worst case in the benchmark").

``routing.policy.compile_match`` refuses a pattern whose number of backtracking paths over
a 24-digit number (``choice_bound``) exceeds ``CHOICE_LIMIT``; this times, for patterns at
and near that limit, ``fullmatch`` on every 24-digit number of one repeated digit, the
same with a different last digit, and a few random ones; it prints the worst per pattern,
and the same for patterns the check refuses (run with a 1-second cap each), to show what
the check keeps out.

    .venv/bin/python bench/regex_worst.py
"""

import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vmgate.settings")

from routing import policy  # noqa: E402

ACCEPTED = [
    "0([0-9]+)",
    "00([0-9]{6,20})",
    "[0-9]*[0-9]*1",
    "[0-9]*[0-9]*[0-9]{0,7}1",
    "([0-9]*)([0-9]*)(?:0|1|2|3|4|5|6)",
    "(?:0|00|000)?[0-9]*[0-9]*1",
]
REFUSED = ["[0-9]*[0-9]*[0-9]*1", "0*0*0*0*1", "(0|00)*1", "(0+)+1"]


def numbers():
    rng = random.Random(18)
    out = []
    for d in "0123456789":
        out.append(d * 24)
        out.append(d * 23 + ("1" if d != "1" else "2"))
        out.append(d * 23 + ("0" if d != "0" else "9"))
    out += ["".join(rng.choice("0123456789") for _ in range(24)) for _ in range(50)]
    return out


def worst(pattern, cap_s=None, repeat=15):
    """The slowest number's time (each number's best of ``repeat`` runs: the machine's
    noise out, the pattern's own cost kept)."""
    compiled = re.compile(pattern)
    top, top_number = 0.0, ""
    for number in numbers():
        spent = float("inf")
        for _ in range(1 if cap_s else repeat):
            t0 = time.perf_counter()
            compiled.fullmatch(number)
            spent = min(spent, time.perf_counter() - t0)
        if spent > top:
            top, top_number = spent, number
        if cap_s and spent > cap_s:
            break
    return top, top_number


def main():
    print(f"CHOICE_LIMIT {policy.CHOICE_LIMIT:,}; numbers are at most 24 digits")
    for pattern in ACCEPTED:
        policy.compile_match(pattern)  # raises if the check would refuse it
        bound = policy.choice_bound(policy.sre_parse.parse(pattern).data)
        spent, number = worst(pattern)
        print(f"accepted  bound {bound:>6,}  worst {spent * 1e6:8.1f} µs  {pattern}  on {number}")
    for pattern in REFUSED:
        try:
            policy.compile_match(pattern)
            raise SystemExit(f"{pattern} was expected to be refused")
        except policy.PolicyError as exc:
            why = str(exc)[:60]
        spent, number = worst(pattern, cap_s=1.0)
        print(f"refused   worst {spent * 1e3:10.1f} ms  {pattern}  on {number}  ({why}…)")


if __name__ == "__main__":
    main()
