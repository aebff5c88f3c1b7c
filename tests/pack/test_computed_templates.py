"""Every computed-card template of the pack, run in the sandbox, against answers computed here.

For each template the expected answer is recomputed from the sizes and values the template
chose (its ``params``) with plain NumPy: building arrays of those shapes and doing the
operation (a matmul, a reshape, a sliding window, uint32 arithmetic), or the formula of the
paper or the framework's documentation (parameter counts from PyTorch's documented weight
shapes). A right answer typed as the learner would type it is Good, a wrong one is Again,
and a broken template gives its error instead of a card.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from studylog.services import computed

TEMPLATES = computed.pack_templates()
BY_ID = {t.id: t for t in TEMPLATES}
SEEDS = (1, 20261202)


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sizes(*arrays: np.ndarray) -> int:
    return int(sum(a.size for a in arrays))


def _mha_weights(p: dict[str, int]) -> tuple[int, ...]:
    N, L, E, h = p["N"], p["L"], p["E"], p["h"]
    x = np.zeros((N, L, E))
    q = x.reshape(N, L, h, E // h).transpose(0, 2, 1, 3)
    return (q @ q.swapaxes(-1, -2)).shape


def _causal(T: int) -> np.ndarray:
    scores = np.zeros((T, T))
    scores[np.triu_indices(T, k=1)] = -np.inf
    return _softmax(scores)


def _rnn_hs(p: dict[str, int]) -> tuple[int, ...]:
    N, T, D, H = p["N"], p["T"], p["D"], p["H"]
    xs, W_x, W_h, h = np.zeros((N, T, D)), np.zeros((D, H)), np.zeros((H, H)), np.zeros((N, H))
    hs = []
    for t in range(T):
        h = np.tanh(xs[:, t] @ W_x + h @ W_h)
        hs.append(h)
    return np.stack(hs, axis=1).shape


def _conv(p: dict[str, int]) -> list[Any]:
    H, C, k, s, pad, F = p["H"], p["C"], p["k"], p["s"], p["p"], p["F"]
    x = np.pad(np.zeros((H, H, C)), ((pad, pad), (pad, pad), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(0, 1))[::s, ::s]
    weight = np.zeros((k, k, C, F))
    out = np.einsum("ijcab,abcf->ijf", windows, weight)
    return [out.shape, _sizes(weight, np.zeros(F))]


def _pe(d: int, pos: int) -> np.ndarray:
    row = np.empty(d)
    for col in range(d):
        i2 = col - col % 2
        angle = pos / 10000 ** (i2 / d)
        row[col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    return row


def _clipped_p1(p: dict[str, str]) -> float:
    ref, cand = Counter(p["ref"].split()), Counter(p["cand"].split())
    return sum(min(n, ref[w]) for w, n in cand.items()) / sum(cand.values())


def _vit_tokens(p: dict[str, int]) -> int:
    S, P, C = p["S"], p["P"], p["C"]
    images = np.zeros((1, C, S, S))
    patches = images.reshape(1, C, S // P, P, S // P, P).transpose(0, 2, 4, 1, 3, 5)
    return patches.reshape(1, -1, C * P * P).shape[1] + 1


# template id -> the expected answer from the template's params, computed independently.
EXPECTED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "scaled-dot-product-attention/sdpa-weights-shape": lambda p: (
        _softmax(
            np.zeros((p["N"], p["Lq"], p["d"])) @ np.zeros((p["N"], p["Lk"], p["d"])).swapaxes(1, 2)
        ).shape
    ),
    "scaled-dot-product-attention/sdpa-scaled-score": lambda p: float(
        np.dot(p["q"], p["k"]) / math.sqrt(len(p["q"]))
    ),
    "multi-head-attention/mha-per-head-weights": _mha_weights,
    "multi-head-attention/mha-split-heads": lambda p: (
        np.zeros((p["N"], p["L"], p["E"]))
        .reshape(p["N"], p["L"], p["h"], -1)
        .transpose(0, 2, 1, 3)
        .shape
    ),
    # torch.nn.MultiheadAttention: in_proj_weight (3E, E), in_proj_bias (3E,),
    # out_proj.weight (E, E), out_proj.bias (E,).
    "multi-head-attention/mha-params": lambda p: _sizes(
        np.zeros((3 * p["E"], p["E"])),
        np.zeros(3 * p["E"]),
        np.zeros((p["E"], p["E"])),
        np.zeros(p["E"]),
    ),  # fmt: skip
    "masked-attention/causal-nonzero": lambda p: int(np.count_nonzero(_causal(p["T"]))),
    "masked-attention/causal-uniform-weight": lambda p: float(_causal(p["T"])[p["t"], 0]),
    "attention/context-shape": lambda p: (
        (np.zeros((p["N"], p["T"]))[:, :, None] * np.zeros((p["N"], p["T"], p["H"])))
        .sum(axis=1)
        .shape
    ),
    "attention/largest-weight": lambda p: float(
        _softmax(np.asarray(p["hs"]) @ np.asarray(p["h"])).max()
    ),
    "rnn/rnn-hs-shape": _rnn_hs,
    "rnn/rnn-params": lambda p: _sizes(
        np.zeros((p["D"], p["H"])), np.zeros((p["H"], p["H"])), np.zeros(p["H"])
    ),
    # torch.nn.LSTM: weight_ih_l0 (4H, D), weight_hh_l0 (4H, H), bias_ih_l0 and bias_hh_l0 (4H,).
    "lstm/lstm-params": lambda p: _sizes(
        np.zeros((4 * p["H"], p["D"])), np.zeros((4 * p["H"], p["H"])), np.zeros(8 * p["H"])
    ),
    "lstm/lstm-gates-shape": lambda p: (
        (
            np.zeros((p["N"], p["D"])) @ np.zeros((4 * p["H"], p["D"])).T
            + np.zeros((p["N"], p["H"])) @ np.zeros((4 * p["H"], p["H"])).T
        ).shape
    ),
    # torch.nn.GRU: weight_ih_l0 (3H, D), weight_hh_l0 (3H, H), two biases (3H,).
    "gru/gru-params": lambda p: _sizes(
        np.zeros((3 * p["H"], p["D"])), np.zeros((3 * p["H"], p["H"])), np.zeros(6 * p["H"])
    ),
    "gru/gru-new-state": lambda p: float(
        np.interp(p["z"], [0.0, 1.0], [p["n"], p["h"]])  # z blends n (z=0) into h (z=1)
    ),
    "np-dot-shapes/matmul-shape": lambda p: (
        (np.zeros((p["B"], p["n"], p["m"])) @ np.zeros((p["m"], p["p"]))).shape
    ),
    "np-dot-shapes/broadcast-shape": lambda p: np.broadcast_shapes(
        (p["a"], 1, p["c"]), (p["b"], 1)
    ),
    "positional-encoding/pe-value": lambda p: float(_pe(p["d"], p["pos"])[p["col"]]),
    "positional-encoding/pe-ones-at-zero": lambda p: int(np.sum(_pe(p["d"], 0) == 1.0)),
    "softmax/softmax-max": lambda p: float(_softmax(np.asarray(p["z"])).max()),
    "softmax/predict-temperature": lambda p: float(_softmax(np.asarray(p["z"]) / p["T"])[0]),
    "bleu/bleu-brevity-penalty": lambda p: (
        1.0 if p["c"] > p["r"] else math.exp(1 - p["r"] / p["c"])
    ),
    "bleu/bleu-clipped-unigram": _clipped_p1,
    "ites-uint32/ites-signal": lambda p: int(np.uint32(p["a"]) % np.uint32(10000)) + 1,
    "ites-uint32/uint32-wrap": lambda p: int(
        (np.array([p["x"]], dtype=np.uint32) + np.uint32(p["m"]))[0]
    ),
    "conv-as-dense/conv-output-and-params": _conv,
    "conv-as-dense/dense-as-conv-params": lambda p: [
        p["H"],
        _sizes(np.zeros((p["F"], p["C"], p["H"], p["H"])), np.zeros(p["F"])),
    ],
    "vit-patch-embedding/vit-token-count": _vit_tokens,
    "vit-patch-embedding/vit-projection-params": lambda p: _sizes(
        np.zeros((p["D"], p["C"], p["P"], p["P"])), np.zeros(p["D"])
    ),
}

# The issue: at least two for each shape- or value-heavy concept.
CONCEPTS = (
    "scaled-dot-product-attention", "multi-head-attention", "masked-attention", "attention",
    "rnn", "lstm", "gru", "np-dot-shapes", "positional-encoding", "softmax", "bleu",
    "ites-uint32", "conv-as-dense", "vit-patch-embedding",
)  # fmt: skip


def plain(value: Any) -> Any:
    """Tuples (NumPy shapes) as lists, NumPy numbers as Python ones: the template's JSON form."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def test_every_listed_concept_has_at_least_two_templates() -> None:
    counts = Counter(t.slug for t in TEMPLATES)
    assert {slug: counts[slug] for slug in CONCEPTS if counts[slug] < 2} == {}
    assert set(BY_ID) == set(EXPECTED)


@pytest.mark.parametrize("template_id", sorted(EXPECTED))
def test_the_template_answer_is_the_independent_one(template_id: str) -> None:
    template = BY_ID[template_id]
    questions = set()
    for seed in SEEDS:
        made = computed.generate(template, seed=seed)
        assert made.error is None, made.error
        card = made.generated
        assert card is not None and card.question.strip()
        questions.add(card.question)
        want = plain(EXPECTED[template_id](card.params))
        got = card.answer
        assert computed.flatten(got) == pytest.approx(computed.flatten(want), abs=1e-9), (
            card.question,
            card.params,
        )
        if isinstance(want, int):
            assert isinstance(got, int)  # integers are compared exactly
        # Typed as shown, it is right (Good); one off, it is wrong (Again).
        right = computed.check_answer(card, card.expected_text)
        assert right.correct and computed.proposed_grade(right) == 3
        numbers = computed.flatten(got)
        numbers[-1] = numbers[-1] + (1 if isinstance(numbers[-1], int) else 10 * card.tol + 0.01)
        wrong = computed.check_answer(card, " ".join(map(str, numbers)))
        assert not wrong.correct and computed.proposed_grade(wrong) == 1
    assert len(questions) == len(SEEDS)  # fresh sizes or values for a fresh seed


def test_typed_answers_are_read_leniently_but_checked_exactly() -> None:
    card = computed.Generated("q", [[32, 32, 8], 608], 0.005, "", {}, 0)
    assert card.expected_text == "(32, 32, 8); 608"
    for typed in ("(32, 32, 8); 608", "32x32x8, 608", "32 × 32 × 8 and 608 parameters"):
        assert computed.check_answer(card, typed).correct, typed
    for typed in ("(32, 32, 8)", "(32, 32, 8); 609", "(32.5, 32, 8); 608", "no idea"):
        assert not computed.check_answer(card, typed).correct, typed
    value = computed.Generated("q", 0.6652409557748219, 0.005, "", {}, 0)
    assert value.expected_text == "0.67"
    assert computed.check_answer(value, "0.67").correct
    assert computed.check_answer(value, "0.665").correct
    assert not computed.check_answer(value, "0.66").correct  # 0.0052 away: outside 0.005
    assert not computed.check_answer(value, "0.7").correct


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def card(rng):\n    return 1 / 0\n", "ZeroDivisionError"),
        ("def card(rng):\n    return {'question': 'q'}\n", "must return an 'answer'"),
        ("def card(rng):\n    return {'question': 'q', 'answer': 'a'}\n", "expected a number"),
        ("def card(rng):\n    return {'question': 'q', 'answer': float('nan')}\n", "finite"),
        ("x = (\n", "SyntaxError"),
        ("def make(rng):\n    return {}\n", "no function card(rng)"),
    ],
)
def test_a_broken_template_gives_its_error_instead_of_a_card(source: str, message: str) -> None:
    template = computed.Template(id="t/broken", slug="t", key="broken", title="t", template=source)
    made = computed.generate(template, seed=1)
    assert made.generated is None
    assert made.error is not None and message in made.error


def test_a_looping_template_times_out() -> None:
    from studylog.demo.limits import Limits

    template = computed.Template(
        id="t/loop",
        slug="t",
        key="loop",
        title="t",
        template="def card(rng):\n    while True: pass\n",
    )
    made = computed.generate(template, seed=1, limits=Limits(timeout_s=1.0))
    assert made.generated is None and "did not finish" in (made.error or "")
