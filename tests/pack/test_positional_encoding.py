"""Sinusoidal positional encoding: known values, the formula by loops, the offset property."""

import math
from pathlib import Path

import numpy as np
import pytest
from positional_encoding import demo, offset_rotation, positional_encoding

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def loop_pe(length, d_model):
    """Sec. 3.5 of Vaswani et al., one entry at a time with the math module."""
    pe = [[0.0] * d_model for _ in range(length)]
    for pos in range(length):
        for j in range(d_model):
            i = j // 2
            angle = pos / 10000 ** (2 * i / d_model)
            pe[pos][j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return np.array(pe)


@pytest.mark.parametrize("length,d_model", [(10, 8), (50, 512), (7, 5)])
def test_matches_formula_loop(length, d_model):
    np.testing.assert_allclose(
        positional_encoding(length, d_model), loop_pe(length, d_model), rtol=1e-12, atol=1e-12
    )


def test_known_values():
    pe = positional_encoding(100, 512)
    np.testing.assert_array_equal(pe[0, 0::2], 0.0)
    np.testing.assert_array_equal(pe[0, 1::2], 1.0)
    assert pe[1, 0] == pytest.approx(0.8414709848078965, abs=1e-15)  # sin(1)
    assert pe[1, 1] == pytest.approx(0.5403023058681398, abs=1e-15)  # cos(1)
    assert pe[2, 0] == pytest.approx(0.9092974268256817, abs=1e-15)  # sin(2)
    # d_model = 4: column 2 is sin(pos / 100), so PE(50, 2) = sin(0.5).
    assert positional_encoding(51, 4)[50, 2] == pytest.approx(0.479425538604203, abs=1e-15)
    # The slowest pair of d_model = 512 has frequency 10000^(-510/512).
    assert pe[99, 510] == pytest.approx(math.sin(99 * 10000 ** (-510 / 512)), rel=1e-13)


def test_values_bounded_and_row_norm():
    pe = positional_encoding(200, 64)
    assert np.abs(pe).max() <= 1.0
    np.testing.assert_allclose(np.linalg.norm(pe, axis=1), math.sqrt(32), rtol=1e-13)


def test_dot_product_depends_only_on_offset():
    d = 16
    pe = positional_encoding(120, d)
    w = 10000.0 ** (-np.arange(0, d, 2) / d)
    for k in (0, 1, 4, 13, 50):
        expected = float(np.sum(np.cos(k * w)))  # closed form, independent of p
        dots = [float(pe[p] @ pe[p + k]) for p in range(0, 120 - k, 7)]
        np.testing.assert_allclose(dots, expected, rtol=1e-12, atol=1e-12)


def test_shift_is_a_fixed_linear_map():
    pe = positional_encoding(60, 10)
    for k in (1, 5, 17):
        R = offset_rotation(k, 10)
        np.testing.assert_allclose(pe[k:], pe[:-k] @ R, atol=1e-13)
        np.testing.assert_allclose(R @ R.T, np.eye(10), atol=1e-14)  # a rotation
    # A wrong map (offset 2 used for a shift of 1) must not fit.
    assert np.abs(pe[1:] - pe[:-1] @ offset_rotation(2, 10)).max() > 0.1


def test_positions_are_distinct():
    pe = positional_encoding(50, 16)
    dists = np.linalg.norm(pe[:, None] - pe[None], axis=-1)
    assert dists[~np.eye(50, dtype=bool)].min() > 0.1


def test_dtype():
    assert positional_encoding(3, 4, dtype=np.float32).dtype == np.float32


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    heatmaps = [o for o in outputs if o["kind"] == "heatmap"]
    assert len(heatmaps) == 2 and len(heatmaps[0]["data"]) == 12
    assert heatmaps[0]["data"][0] == [0.0, 1.0] * 6
    gram = np.array(heatmaps[1]["data"])
    assert np.allclose(np.diag(gram), 6.0)
    assert np.allclose(np.diag(gram, 1), gram[0, 1])  # Toeplitz: constant diagonals
    table = next(o for o in outputs if o["kind"] == "table")
    for row in table["rows"]:
        assert row[1] == row[2] == row[3] == pytest.approx(row[4], abs=1e-6)
    assert table["rows"][1][1] == pytest.approx(5.516055, abs=1e-6)
    assert next(o for o in outputs if o["kind"] == "value")["value"] < 1e-12
    assert any(o["kind"] == "line" for o in outputs)


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/positional-encoding.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "positional-encoding"
    assert concept.demo == "positional_encoding.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
