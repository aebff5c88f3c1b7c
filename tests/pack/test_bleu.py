"""BLEU checked against the numbers published in Papineni et al. (2002) and in NLTK's
documentation of nltk/translate/bleu_score.py (hard-coded here; NLTK is not a dependency)."""

import math
from fractions import Fraction

import pytest
from bleu import (
    CANDIDATE_1,
    CANDIDATE_2,
    REFERENCES_1,
    brevity_penalty,
    clipped_counts,
    closest_ref_length,
    corpus_bleu,
    demo,
    modified_precision,
    ngrams,
    sentence_bleu,
)

from studylog.demo import api as out

HYP2 = "he read the book because he was interested in world history".split()
REF2A = "he was interested in world history because he read the book".split()


def test_ngrams_counts():
    assert ngrams("a b a b".split(), 2) == {("a", "b"): 2, ("b", "a"): 1}
    assert ngrams(["a"], 2) == {}


def test_the_the_the_example_is_two_sevenths():
    # Papineni et al. 2002, §2.1, and NLTK's modified_precision docstring (0.2857...).
    refs = ["the cat is on the mat".split(), "there is a cat on the mat".split()]
    hyp = "the the the the the the the".split()
    assert modified_precision(refs, hyp, 1) == Fraction(2, 7)


def test_of_the_example_has_precision_one():
    # NLTK docstring: a reference word is exhausted only after a match; 'of the' scores 1.0.
    hyp = "of the".split()
    assert modified_precision(REFERENCES_1, hyp, 1) == 1
    assert modified_precision(REFERENCES_1, hyp, 2) == 1


def test_paper_example_1_precisions():
    # Papineni et al. 2002: candidate 1 unigram 17/18, bigram 10/17; candidate 2 unigram
    # 8/14, bigram 1/13 (NLTK docs: 0.9444..., 0.5882352941176471, 0.5714..., 0.07692...).
    assert clipped_counts(REFERENCES_1, CANDIDATE_1, 1) == (17, 18)
    assert clipped_counts(REFERENCES_1, CANDIDATE_1, 2) == (10, 17)
    assert clipped_counts(REFERENCES_1, CANDIDATE_2, 1) == (8, 14)
    assert clipped_counts(REFERENCES_1, CANDIDATE_2, 2) == (1, 13)
    assert float(modified_precision(REFERENCES_1, CANDIDATE_1, 2)) == 0.5882352941176471


def test_sentence_bleu_published_values():
    # NLTK sentence_bleu docstring.
    assert sentence_bleu(REFERENCES_1, CANDIDATE_1) == pytest.approx(0.5045666840058485, rel=1e-12)
    assert sentence_bleu(REFERENCES_1, CANDIDATE_2) == 0
    # Older NLTK docstring: up to 5-grams with weights 0.1666 each.
    assert sentence_bleu(REFERENCES_1, CANDIDATE_1, (0.1666,) * 5) == pytest.approx(
        0.45838627164939455, rel=1e-12
    )


def test_sentence_bleu_equals_the_formula_written_out():
    # The four precisions from the paper, combined by hand: BP = 1 (18 > 16 closest ref).
    expected = math.exp(
        0.25 * (math.log(17 / 18) + math.log(10 / 17) + math.log(7 / 16) + math.log(4 / 15))
    )
    assert sentence_bleu(REFERENCES_1, CANDIDATE_1) == pytest.approx(expected, rel=1e-14)


def test_corpus_bleu_published_values():
    # NLTK corpus_bleu docstring: 0.5920778868801042, and the mean of the two sentence
    # scores 0.6223... (0.6223247442490669 in NLTK-derived tests) is different.
    refs = [REFERENCES_1, [REF2A]]
    hyps = [CANDIDATE_1, HYP2]
    assert corpus_bleu(refs, hyps) == pytest.approx(0.5920778868801042, rel=1e-12)
    mean = (sentence_bleu(REFERENCES_1, CANDIDATE_1) + sentence_bleu([REF2A], HYP2)) / 2
    assert mean == pytest.approx(0.6223247442490669, rel=1e-12)
    # BLEU-1..3 for the same corpus, as published alongside it.
    assert corpus_bleu(refs, hyps, (1, 0, 0, 0)) == pytest.approx(0.9655172413793104, rel=1e-12)
    assert corpus_bleu(refs, hyps, (0.5, 0.5, 0, 0)) == pytest.approx(0.8242803277698696, rel=1e-12)
    assert corpus_bleu(refs, hyps, (0.33, 0.33, 0.33, 0)) == pytest.approx(
        0.7093989814471865, rel=1e-12
    )


def test_brevity_penalty_published_values():
    # NLTK brevity_penalty docstring examples (from the paper's discussion of r).
    assert brevity_penalty(closest_ref_length([["a"] * 12, ["a"] * 15, ["a"] * 17], 12), 12) == 1.0
    assert brevity_penalty(closest_ref_length([["a"] * 28, ["a"] * 28], 12), 12) == pytest.approx(
        0.2635971381157267, rel=1e-12
    )
    assert brevity_penalty(closest_ref_length([["a"] * 13, ["a"] * 2], 12), 12) == pytest.approx(
        0.9200, abs=1e-4
    )
    # Tie: 13 and 11 are both 1 away from 12; the shorter one is used, so no penalty.
    assert closest_ref_length([["a"] * 13, ["a"] * 11], 12) == 11
    assert brevity_penalty(11, 12) == 1.0
    assert brevity_penalty(10, 0) == 0.0


def test_perfect_match_scores_one_and_clipping_is_per_reference_maximum():
    sent = "a b c d e f".split()
    assert sentence_bleu([sent], sent) == pytest.approx(1.0)
    # 'a' appears twice in one reference and once in the other: the clip is max, not sum.
    refs = [["a", "a", "x"], ["a", "y", "z"]]
    assert clipped_counts(refs, ["a", "a", "a"], 1) == (2, 3)


def test_mismatched_corpus_lengths_raise():
    with pytest.raises(ValueError):
        corpus_bleu([REFERENCES_1], [CANDIDATE_1, HYP2])


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    tables = [o for o in outputs if o["kind"] == "table"]
    assert tables[0]["rows"][1][1] == "2/7"
    assert tables[1]["rows"][0][2:6] == ["17/18", "10/17", "7/16", "4/15"]
    assert tables[1]["rows"][0][6] == pytest.approx(0.5045666840058485, rel=1e-12)
    corpus_row = tables[2]["rows"][-1]
    assert corpus_row[1] == pytest.approx(0.5920778868801042, rel=1e-12)
    (line,) = [o for o in outputs if o["kind"] == "line"]
    bp = dict(zip(line["x"], line["series"]["BP"], strict=True))
    assert bp[20] == 1.0 and bp[21] == 1.0 and bp[10] == pytest.approx(math.exp(-1))


SHORT_REFS = [[["the", "cat", "sat", "on", "the", "mat"]], [["a", "dog", "runs"]]]
SHORT_HYPS = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog"]]


def test_a_hypothesis_shorter_than_n_papineni_vs_nltk():
    # Papineni: 'a dog' adds no 3- or 4-grams, so p1..p4 = 8/8, 6/6, 4/4, 3/3 and only the
    # brevity penalty is left: c = 8, r = 6 + 3 = 9, BP = exp(1 - 9/8).
    bp = math.exp(1 - 9 / 8)
    assert corpus_bleu(SHORT_REFS, SHORT_HYPS) == pytest.approx(bp, rel=1e-15)
    assert bp == pytest.approx(0.8825, abs=1e-4)
    # NLTK's max(1, count) denominators: p3 = 4/5, p4 = 3/4. 0.7766958816485184 is what
    # nltk 3.10.4's corpus_bleu printed for this corpus (run by hand; NLTK is not a dependency).
    nltk_value = corpus_bleu(SHORT_REFS, SHORT_HYPS, at_least_one_ngram=True)
    assert nltk_value == pytest.approx(bp * (0.8 * 0.75) ** 0.25, rel=1e-15)
    assert nltk_value == pytest.approx(0.7766958816485184, rel=1e-14)


def test_the_conventions_agree_when_every_hypothesis_has_four_tokens():
    hyps = [CANDIDATE_1, CANDIDATE_2]
    refs = [REFERENCES_1, REFERENCES_1]
    assert corpus_bleu(refs, hyps, at_least_one_ngram=True) == corpus_bleu(refs, hyps)
