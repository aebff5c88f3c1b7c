"""NTM addressing, read and write: hand-computable cases and eq.-by-eq. loop references."""

import math
from pathlib import Path

import numpy as np
import pytest
from neural_turing_machine import (
    address,
    circular_shift,
    content_addressing,
    cosine_similarity,
    demo,
    interpolate,
    read,
    sharpen,
    write,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def loop_shift(w, s_by_offset):
    """Eq. 8 literally: w_s(i) = sum_j w(j) s((i - j) mod N), s given for every offset 0..N-1."""
    N = len(w)
    return np.array([sum(w[j] * s_by_offset[(i - j) % N] for j in range(N)) for i in range(N)])


def test_cosine_similarity_matches_loop():
    rng = np.random.default_rng(0)
    memory, key = rng.normal(size=(5, 3)), rng.normal(size=3)
    for i in range(5):
        dot = sum(memory[i, j] * key[j] for j in range(3))
        norms = math.sqrt(sum(v * v for v in memory[i])) * math.sqrt(sum(v * v for v in key))
        assert cosine_similarity(key, memory)[i] == pytest.approx(dot / norms, rel=1e-7)
    # Scaling a row does not change its similarity; a parallel row scores 1, opposite -1.
    m = np.array([[2.0, 0.0], [0.0, 3.0], [-5.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(np.array([1.0, 0.0]), m), [1, 0, -1], atol=1e-8)


def test_content_addressing_hand_case():
    # Rows e1, e2, -e1 with key e1: similarities 1, 0, -1; beta = 1 gives softmax(1, 0, -1).
    m = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    w = content_addressing(m, np.array([1.0, 0.0]), beta=1.0)
    z = math.e + 1 + 1 / math.e
    np.testing.assert_allclose(w, [math.e / z, 1 / z, 1 / math.e / z], rtol=1e-7)


def test_key_strength_limits():
    rng = np.random.default_rng(1)
    memory = rng.normal(size=(8, 4))
    key = memory[5] * 3.0 + 0.05 * rng.normal(size=4)
    np.testing.assert_array_equal(content_addressing(memory, key, 0.0), np.full(8, 1 / 8))
    sharp = content_addressing(memory, key, 1000.0)
    np.testing.assert_allclose(sharp, np.eye(8)[5], atol=1e-12)
    assert np.argmax(content_addressing(memory, key, 1.0)) == 5
    # Larger beta, more focus on the best match.
    peaks = [content_addressing(memory, key, b)[5] for b in (0.5, 2.0, 8.0, 32.0)]
    assert peaks == sorted(peaks)


def test_interpolation_gate():
    w_c, w_prev = np.array([0.7, 0.2, 0.1]), np.array([0.0, 0.0, 1.0])
    np.testing.assert_array_equal(interpolate(w_c, w_prev, 1.0), w_c)
    np.testing.assert_array_equal(interpolate(w_c, w_prev, 0.0), w_prev)
    np.testing.assert_allclose(interpolate(w_c, w_prev, 0.5), [0.35, 0.1, 0.55])


def test_shift_by_one_moves_the_weighting_by_one():
    N = 6
    for start in range(N):
        w = np.eye(N)[start]
        np.testing.assert_array_equal(
            circular_shift(w, np.array([0.0, 0.0, 1.0])), np.eye(N)[(start + 1) % N]
        )
        np.testing.assert_array_equal(
            circular_shift(w, np.array([1.0, 0.0, 0.0])), np.eye(N)[(start - 1) % N]
        )
        np.testing.assert_array_equal(circular_shift(w, np.array([0.0, 1.0, 0.0])), w)


def test_shift_matches_equation_8_loop():
    rng = np.random.default_rng(2)
    N = 7
    w = rng.dirichlet(np.ones(N))
    s = rng.dirichlet(np.ones(3))  # over shifts -1, 0, +1
    s_by_offset = np.zeros(N)
    s_by_offset[N - 1], s_by_offset[0], s_by_offset[1] = s  # offset -1 is N - 1 mod N
    np.testing.assert_allclose(circular_shift(w, s), loop_shift(w, s_by_offset), rtol=1e-13)
    assert circular_shift(w, s).sum() == pytest.approx(1.0)
    # Wider shift ranges work the same way.
    s5 = rng.dirichlet(np.ones(5))
    by5 = np.zeros(N)
    for weight, shift in zip(s5, (-2, -1, 0, 1, 2), strict=True):
        by5[shift % N] = weight
    np.testing.assert_allclose(
        circular_shift(w, s5, (-2, -1, 0, 1, 2)), loop_shift(w, by5), rtol=1e-13
    )


def test_sharpening():
    np.testing.assert_allclose(sharpen(np.array([0.5, 0.25, 0.25]), 2.0), [2 / 3, 1 / 6, 1 / 6])
    w = np.array([0.1, 0.6, 0.3])
    np.testing.assert_allclose(sharpen(w, 1.0), w)
    np.testing.assert_allclose(sharpen(w, 60.0), [0, 1, 0], atol=1e-10)


def test_address_pipeline_equals_the_equations_in_order():
    rng = np.random.default_rng(3)
    N, M = 6, 3
    memory, key = rng.normal(size=(N, M)), rng.normal(size=M)
    w_prev = rng.dirichlet(np.ones(N))
    beta, g, gamma = 2.5, 0.3, 1.7
    s = np.array([0.2, 0.5, 0.3])
    # eq. 5-6 by hand
    sims = [
        float(memory[i] @ key) / (np.linalg.norm(memory[i]) * np.linalg.norm(key)) for i in range(N)
    ]
    e = [math.exp(beta * x) for x in sims]
    w_c = np.array(e) / sum(e)
    w_g = g * w_c + (1 - g) * w_prev  # eq. 7
    by_offset = np.zeros(N)
    by_offset[N - 1], by_offset[0], by_offset[1] = s
    w_s = loop_shift(w_g, by_offset)  # eq. 8
    expected = w_s**gamma / np.sum(w_s**gamma)  # eq. 9
    np.testing.assert_allclose(address(memory, w_prev, key, beta, g, s, gamma), expected, rtol=1e-7)


def test_read_head():
    rng = np.random.default_rng(4)
    memory = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(read(memory, np.eye(5)[2]), memory[2])
    w = rng.dirichlet(np.ones(5))
    np.testing.assert_allclose(read(memory, w), sum(w[i] * memory[i] for i in range(5)), rtol=1e-13)


def test_write_erase_all_and_add_writes_exactly():
    rng = np.random.default_rng(5)
    memory = rng.normal(size=(5, 3))
    before = memory.copy()
    a = np.array([1.5, -2.0, 0.25])
    new = write(memory, np.eye(5)[1], erase=np.ones(3), add=a)
    np.testing.assert_array_equal(new[1], a)
    np.testing.assert_array_equal(np.delete(new, 1, axis=0), np.delete(before, 1, axis=0))
    np.testing.assert_array_equal(memory, before)  # the input is not modified
    # Half weight: eq. 3 keeps half of the row, eq. 4 adds half of a.
    half = write(memory, np.array([0, 0.5, 0, 0, 0.5]), erase=np.ones(3), add=a)
    np.testing.assert_allclose(half[1], 0.5 * memory[1] + 0.5 * a)
    # Erase only the first component.
    part = write(memory, np.eye(5)[3], erase=np.array([1.0, 0.0, 0.0]), add=np.zeros(3))
    np.testing.assert_array_equal(part[3], [0.0, memory[3, 1], memory[3, 2]])
    # Then read back what was written.
    np.testing.assert_array_equal(read(new, np.eye(5)[1]), a)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heatmaps = [o for o in outputs if o["kind"] == "heatmap"]
    assert len(heatmaps) == 2
    sharp = np.array(heatmaps[0]["data"])
    assert sharp.shape == (6, 8)
    assert list(sharp.argmax(axis=1)) == [2, 3, 4, 5, 6, 7]
    assert sharp.max(axis=1).min() > 0.99
    blur = np.array(heatmaps[1]["data"])
    assert list(blur.max(axis=1)) == [1.0, 0.9, 0.81, 0.729, 0.656, 0.59]  # 0.9^t
    beta_table = next(o for o in outputs if o.get("label", "").startswith("content addressing"))
    assert beta_table["rows"][0][1:] == [0.125] * 8
    assert beta_table["rows"][-1][3] == 1.0
    written = next(o for o in outputs if o.get("label", "").startswith("write at step 1"))
    np.testing.assert_allclose(written["data"][1], [1.0, -1.0, 0.5, 2.0], atol=0.01)


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/neural-turing-machine.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "neural-turing-machine"
    assert concept.demo == "neural_turing_machine.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
