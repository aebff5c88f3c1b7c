"""The scalar fuzz of one answer (plain floats) gives exactly the array fuzz of the batch
path (NumPy), and both keep the ``fsrs`` package's range: checked on every interval from
0 to 400 days with several maximum intervals, and on random uniforms."""

from __future__ import annotations

import numpy as np

from studylog.scheduling.fuzz import fuzz_range, fuzz_ranges, fuzzed_day, fuzzed_days


def test_scalar_range_and_day_equal_the_arrays():
    rng = np.random.default_rng(7)
    intervals = np.arange(0, 401, dtype=np.int64)
    for maximum in (36500, 365, 30, 3):
        lo, hi = fuzz_ranges(intervals, maximum)
        for i, days in enumerate(intervals.tolist()):
            assert fuzz_range(days, maximum) == (int(lo[i]), int(hi[i]))
        for u in [0.0, 0.5, 1 - 2.0**-53, *rng.random(20).tolist()]:
            want = fuzzed_days(intervals, np.full(intervals.size, u), maximum)
            got = [fuzzed_day(days, u, maximum) for days in intervals.tolist()]
            assert got == want.tolist(), (maximum, u)


def test_known_ranges():
    # the fsrs package's Scheduler._get_fuzz_range: 10 days -> delta 1 + 0.15*4.5 + 0.1*3 = 1.975
    assert fuzz_range(10, 36500) == (8, 12)
    assert fuzz_range(3, 36500) == (2, 4)
    assert fuzz_range(100, 36500) == (93, 107)  # delta 1 + 0.675 + 1.3 + 4 = 6.975
    assert fuzz_range(100, 90) == (90, 90)
    assert fuzzed_day(2, 0.99, 36500) == 2  # under 2.5 days: never fuzzed
