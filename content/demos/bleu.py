"""BLEU: clipped (modified) n-gram precision, the brevity penalty, sentence and corpus level.

Source: Papineni, Roukos, Ward & Zhu (2002), BLEU: a Method for Automatic
Evaluation of Machine Translation, ACL. §2.1 defines the modified n-gram
precision p_n (each candidate n-gram counts at most as often as it appears in
any single reference), §2.3 the brevity penalty and the score:

    BP   = 1                 if c > r
         = exp(1 - r / c)    if c <= r
    BLEU = BP * exp(sum_n w_n log p_n)          (uniform w_n = 1/N, N = 4)

c is the candidate length and r the "effective reference length": the sum,
over sentences, of the reference length closest to each candidate (ties go to
the shorter reference, as in NLTK). At corpus level the clipped counts and the
candidate n-gram counts are summed over all sentences *before* dividing
(micro-average), which is not the mean of the sentence scores.

Tokens are plain Python strings; no smoothing, so a zero p_n gives BLEU = 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from studylog.demo import api as out

Tokens = Sequence[str]


def ngrams(tokens: Tokens, n: int) -> Counter[tuple[str, ...]]:
    """Counts of the n-grams of ``tokens`` (empty if the sentence is shorter than n)."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def clipped_counts(references: Sequence[Tokens], hypothesis: Tokens, n: int) -> tuple[int, int]:
    """Numerator and denominator of the modified n-gram precision (Papineni et al. 2002, §2.1).

    Count_clip(g) = min(Count(g), max over references of Count_ref(g)).

    Returns:
        (sum of clipped counts, number of n-grams in the hypothesis).
    """
    counts = ngrams(hypothesis, n)
    max_ref: Counter[tuple[str, ...]] = Counter()
    for ref in references:
        max_ref |= ngrams(ref, n)  # | keeps the per-n-gram maximum
    clipped = sum(min(c, max_ref[g]) for g, c in counts.items())
    return clipped, sum(counts.values())


def modified_precision(references: Sequence[Tokens], hypothesis: Tokens, n: int) -> Fraction:
    """p_n for one sentence as an exact fraction, e.g. 'the the the the the the the' -> 2/7."""
    num, den = clipped_counts(references, hypothesis, n)
    return Fraction(num, max(den, 1))


def closest_ref_length(references: Sequence[Tokens], hyp_len: int) -> int:
    """The reference length closest to ``hyp_len``; on a tie the shorter one."""
    return min((len(r) for r in references), key=lambda r: (abs(r - hyp_len), r))


def brevity_penalty(ref_len: int, hyp_len: int) -> float:
    """BP = 1 if c > r else exp(1 - r/c) (Papineni et al. 2002, §2.3); 0 for an empty candidate."""
    if hyp_len > ref_len:
        return 1.0
    if hyp_len == 0:
        return 0.0
    return math.exp(1.0 - ref_len / hyp_len)


def corpus_bleu(
    list_of_references: Sequence[Sequence[Tokens]],
    hypotheses: Sequence[Tokens],
    weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25),
    at_least_one_ngram: bool = False,
) -> float:
    """Corpus BLEU in [0, 1]: micro-averaged p_n, the corpus brevity penalty, weighted log mean.

    Args:
        list_of_references: for each hypothesis, a list of reference token lists.
        hypotheses: the candidate token lists, same length as ``list_of_references``.
        weights: w_n for n = 1..len(weights) (uniform 1/4 gives BLEU-4).
        at_least_one_ngram: NLTK's convention (``modified_precision`` takes
            ``max(1, count)`` as each sentence's denominator): a hypothesis shorter
            than n still adds 1 to the denominator of p_n. Papineni's formula
            (the default, False) adds its true count, 0.

    Returns:
        The score as a float (0.0 if any weighted p_n is zero).
    """
    if len(list_of_references) != len(hypotheses):
        raise ValueError("need one list of references per hypothesis")
    num = [0] * len(weights)
    den = [0] * len(weights)
    hyp_len = ref_len = 0
    for refs, hyp in zip(list_of_references, hypotheses, strict=True):
        for i in range(len(weights)):
            a, b = clipped_counts(refs, hyp, i + 1)
            num[i] += a
            den[i] += max(b, 1) if at_least_one_ngram else b
        hyp_len += len(hyp)
        ref_len += closest_ref_length(refs, len(hyp))
    log_sum = 0.0
    for w, a, b in zip(weights, num, den, strict=True):
        if w == 0:
            continue
        if a == 0:
            return 0.0
        log_sum += w * math.log(a / b)
    return brevity_penalty(ref_len, hyp_len) * math.exp(log_sum)


def sentence_bleu(
    references: Sequence[Tokens],
    hypothesis: Tokens,
    weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25),
) -> float:
    """BLEU of one hypothesis: the corpus formula on a corpus of one sentence."""
    return corpus_bleu([references], [hypothesis], weights)


# Papineni et al. (2002), Example 1; the same sentences are NLTK's documented example.
REFERENCES_1 = [
    "It is a guide to action that ensures that the military will forever heed Party commands".split(),
    "It is the guiding principle which guarantees the military forces always being under the command of the Party".split(),
    "It is the practical guide for the army always to heed the directions of the party".split(),
]
CANDIDATE_1 = "It is a guide to action which ensures that the military always obeys the commands of the party".split()
CANDIDATE_2 = (
    "It is to insure the troops forever hearing the activity guidebook that party direct".split()
)


def demo() -> None:
    refs = [
        "the cat is on the mat".split(),
        "there is a cat on the mat".split(),
    ]
    naive = "the the the the the the the".split()
    hits = sum(1 for w in naive if any(w in r for r in refs))
    out.text(
        "Papineni et al.'s example: plain unigram precision rewards repeating a common word; "
        "clipping each word's count at its maximum count in any one reference fixes it."
    )
    out.table(
        "'the the the the the the the' vs 2 references",
        columns=["precision", "fraction", "value"],
        rows=[
            ["plain unigram", f"{hits}/{len(naive)}", hits / len(naive)],
            [
                "modified (clipped)",
                str(modified_precision(refs, naive, 1)),
                float(modified_precision(refs, naive, 1)),
            ],
        ],
    )

    rows = []
    for name, cand in (("candidate 1", CANDIDATE_1), ("candidate 2", CANDIDATE_2)):
        # Unreduced "clipped / total" as the paper writes them (8/14, not 4/7).
        counts = [clipped_counts(REFERENCES_1, cand, n) for n in range(1, 5)]
        rows.append(
            [name, len(cand)]
            + [f"{a}/{b}" for a, b in counts]
            + [sentence_bleu(REFERENCES_1, cand)]
        )
    out.table(
        "modified n-gram precisions p_n and BLEU-4 (paper's Example 1, 3 references)",
        columns=["hypothesis", "length", "p1", "p2", "p3", "p4", "BLEU"],
        rows=rows,
    )
    out.text("Candidate 2 has no matching 4-gram, so unsmoothed BLEU-4 is 0: log p4 = -inf.")

    out.line(
        "brevity penalty BP = exp(1 - r/c), r = 20",
        x=list(range(5, 31)),
        series={"BP": [brevity_penalty(20, c) for c in range(5, 31)]},
        x_title="candidate length c",
        y_title="BP",
    )

    hyp2 = "he read the book because he was interested in world history".split()
    ref2 = "he was interested in world history because he read the book".split()
    corpus = corpus_bleu([REFERENCES_1, [ref2]], [CANDIDATE_1, hyp2])
    s1 = sentence_bleu(REFERENCES_1, CANDIDATE_1)
    s2 = sentence_bleu([ref2], hyp2)
    out.table(
        "corpus BLEU sums counts before dividing; it is not the mean of sentence BLEU",
        columns=["", "BLEU"],
        rows=[
            ["sentence 1", s1],
            ["sentence 2 (same words, reordered)", s2],
            ["mean of the two", (s1 + s2) / 2],
            ["corpus BLEU", corpus],
        ],
    )
    out.value("corpus BLEU x 100 (as papers report it)", round(100 * corpus, 2))

    short_refs = [[["the", "cat", "sat", "on", "the", "mat"]], [["a", "dog", "runs"]]]
    short_hyps = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog"]]
    out.table(
        "a hypothesis shorter than n: Papineni vs NLTK ('a dog' has no 3-gram or 4-gram)",
        columns=["convention", "p3", "p4", "corpus BLEU"],
        rows=[
            ["Papineni: 'a dog' adds 0 n-grams", "4/4", "3/3", corpus_bleu(short_refs, short_hyps)],
            [
                "NLTK: every sentence adds at least 1",
                "4/5",
                "3/4",
                corpus_bleu(short_refs, short_hyps, at_least_one_ngram=True),
            ],
        ],
    )
