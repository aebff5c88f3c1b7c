import numpy as np
import pytest
from ites_uint32 import (
    count_ranges,
    count_ranges_queue,
    demo,
    lcg,
    lcg_python,
    signals,
)

from studylog.demo import api as out

# From the problem statement (algospot ITES, 종만북 ch. 19): the first five signals,
# and the sample input/output "8791 20 -> 1", "5265 5000 -> 4", "3578452 5000000 -> 1049".
PUBLISHED_FIRST_SIGNALS = [1984, 8791, 4770, 7665, 3188]


def brute_force(sig, k):
    """Every (i, j) pair, O(N^2): the definition of the answer."""
    count = 0
    for i in range(len(sig)):
        total = 0
        for j in range(i, len(sig)):
            total += int(sig[j])
            if total == k:
                count += 1
    return count


def test_first_signals_match_the_problem_statement():
    assert signals(5).tolist() == PUBLISHED_FIRST_SIGNALS


def test_vectorised_uint32_generator_matches_python_ints_mod_2_32():
    n = 10_000
    fast = lcg(n, np.uint32)
    slow = lcg_python(n, modulus=2**32)
    assert fast.dtype == np.uint32
    assert fast.tolist() == slow


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000])
def test_generator_lengths_including_non_powers_of_two(n):
    assert lcg(n).tolist() == lcg_python(n)


def test_int64_generator_wraps_like_twos_complement_long_long():
    # Reference: Python's unbounded ints with the modulus 2^64 and the sign bit
    # read as negative, which is what a 64-bit register holds.
    n = 50
    ref = []
    for v in lcg_python(n, modulus=2**64):
        ref.append(v - 2**64 if v >= 2**63 else v)
    assert lcg(n, np.int64).tolist() == ref
    # The true A[3] is past 2^63 (and 2^64), so int64 overflows there, yet the wrapped value
    # is positive; the first negative value is A[4]. Its signals differ from signal 3 on.
    true_a = lcg_python(5, modulus=None)
    assert true_a[2] < 2**63 < 2**64 < true_a[3]
    assert f"{true_a[3]:.4g}" == "1.955e+19"
    a64 = lcg(5, np.int64).tolist()
    assert a64[3] == true_a[3] - 2**64 == 1106804823099072048 > 0
    assert [v < 0 for v in a64] == [False, False, False, False, True]
    wrong = signals(5, np.int64).tolist()
    assert wrong[:2] == PUBLISHED_FIRST_SIGNALS[:2]
    assert wrong[2] != PUBLISHED_FIRST_SIGNALS[2]
    # C's % truncates toward zero: a negative A gives a negative signal.
    assert wrong[4] == int(np.fmod(lcg(5, np.int64)[4], 10000)) + 1 < 0


def test_no_modulus_at_all_is_wrong_from_the_third_signal():
    no_wrap = [v % 10000 + 1 for v in lcg_python(5, modulus=None)]
    assert no_wrap[:2] == PUBLISHED_FIRST_SIGNALS[:2]
    assert no_wrap[2:] != PUBLISHED_FIRST_SIGNALS[2:]


def test_signals_are_in_range():
    s = signals(100_000)
    assert s.min() >= 1 and s.max() <= 10000


@pytest.mark.parametrize("k,n,expected", [(8791, 20, 1), (5265, 5000, 4)])
def test_published_small_samples_with_all_three_counters(k, n, expected):
    sig = signals(n)
    assert count_ranges_queue(sig, k) == expected
    assert count_ranges(sig, k) == expected
    if n <= 20:
        assert brute_force(sig, k) == expected


def test_published_large_sample_five_million():
    sig = signals(5_000_000)
    assert count_ranges(sig, 3578452) == 1049


def test_counters_agree_with_brute_force_on_random_positive_arrays():
    rng = np.random.default_rng(0)
    for _ in range(30):
        sig = rng.integers(1, 6, size=rng.integers(1, 40))
        k = int(rng.integers(1, 25))
        expected = brute_force(sig, k)
        assert count_ranges_queue(sig, k) == expected
        for block in (1, 2, 7, 1 << 14):  # the block size must not change the answer
            assert count_ranges(sig, k, block=block) == expected


def test_count_ranges_blocks_on_the_published_sample():
    sig = signals(5000)
    assert [count_ranges(sig, 5265, block=b) for b in (1, 3, 64, 4096, 10_000)] == [4] * 5


def test_count_ranges_rejects_non_positive_signals():
    with pytest.raises(ValueError):
        count_ranges(np.array([3, -1, 2]), 4)


def test_the_long_long_bug_changes_the_second_sample_answer():
    assert count_ranges_queue(signals(5000, np.int64), 5265) != 4


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    kinds = [o["kind"] for o in outputs]
    assert kinds.count("table") == 2
    first = outputs[1]
    assert [row[2] for row in first["rows"][:5]] == PUBLISHED_FIRST_SIGNALS
    answers = outputs[3]["rows"]
    assert [row[1] for row in answers] == [row[2] for row in answers] == [1, 4]
    values = {o["label"]: o["value"] for o in outputs if o["kind"] == "value"}
    big = [v for label, v in values.items() if label.startswith("K=3578452")]
    assert big == [1049]
