"""Layer norm: loop reference with the biased variance, gradient checks, batch-norm contrast."""

import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from layer_normalization import batch_norm_train, demo, layer_norm, layer_norm_backward

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def loop_layer_norm(x, weight, bias, eps):
    """Ba et al. (2016) eq. 3 statistics per vector, with statistics.pvariance (divide by H, like torch)."""
    flat = x.reshape(-1, x.shape[-1])
    y = np.zeros_like(flat)
    for r, row in enumerate(flat):
        mu = statistics.fmean(row)
        var = statistics.pvariance(row, mu)
        for j, v in enumerate(row):
            y[r, j] = (v - mu) / math.sqrt(var + eps) * weight[j] + bias[j]
    return y.reshape(x.shape)


def test_matches_loop_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5)) * 3 + 1
    w, b = rng.normal(size=5), rng.normal(size=5)
    for eps in (1e-5, 0.1):
        np.testing.assert_allclose(
            layer_norm(x, w, b, eps), loop_layer_norm(x, w, b, eps), rtol=1e-12, atol=1e-13
        )


def test_published_torch_values():
    # torch.nn.LayerNorm(4)(torch.tensor([1., 2., 3., 4.])) -> [-1.3416, -0.4472, 0.4472, 1.3416]
    y = layer_norm(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), np.zeros(4))
    np.testing.assert_allclose(y, [-1.3416, -0.4472, 0.4472, 1.3416], atol=5e-5)
    # Exact closed form: mean 2.5, biased variance 1.25 (the unbiased one would be 5/3).
    np.testing.assert_allclose(y, (np.arange(1, 5) - 2.5) / math.sqrt(1.25 + 1e-5), rtol=1e-14)


def test_output_statistics_and_affine():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 16)) * 5 - 2
    y = layer_norm(x, np.ones(16), np.zeros(16), eps=0.0)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.std(axis=-1), 1.0, rtol=1e-13)
    w, b = rng.normal(size=16), rng.normal(size=16)
    np.testing.assert_allclose(layer_norm(x, w, b, eps=0.0), y * w + b, rtol=1e-13, atol=1e-14)


def test_invariant_to_per_sample_shift_and_scale():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 8))
    w, b = rng.normal(size=8), rng.normal(size=8)
    a = rng.uniform(0.5, 20, size=(4, 1))
    c = rng.normal(size=(4, 1)) * 100
    np.testing.assert_allclose(
        layer_norm(a * x + c, w, b, eps=0.0), layer_norm(x, w, b, eps=0.0), rtol=1e-10, atol=1e-11
    )


def test_independent_of_other_samples_unlike_batch_norm():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6))
    w, b = np.ones(6), np.zeros(6)
    x2 = x.copy()
    x2[1:] = rng.normal(size=(4, 6)) * 30
    np.testing.assert_array_equal(layer_norm(x2, w, b)[0], layer_norm(x, w, b)[0])
    np.testing.assert_array_equal(layer_norm(x[:1], w, b)[0], layer_norm(x, w, b)[0])
    assert np.abs(batch_norm_train(x2, w, b)[0] - batch_norm_train(x, w, b)[0]).max() > 0.1
    # Batch norm normalizes columns instead; batch size 1 gives all zeros.
    y_bn = batch_norm_train(x, w, b, eps=0.0)
    np.testing.assert_allclose(y_bn.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(y_bn.std(axis=0), 1.0, rtol=1e-13)
    np.testing.assert_array_equal(batch_norm_train(x[:1], w, b), 0.0)


@pytest.mark.parametrize("eps", [1e-5, 0.3])
def test_backward_matches_numerical_gradient(eps):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 5)) * 2
    w, b = rng.normal(size=5), rng.normal(size=5)
    dy = rng.normal(size=x.shape)

    def loss():
        return float(np.sum(layer_norm(x, w, b, eps) * dy))

    dx, dw, db = layer_norm_backward(dy, x, w, eps)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-6
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-6


def test_input_gradient_is_orthogonal_to_ones_and_x_hat():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 10))
    dx, _, _ = layer_norm_backward(rng.normal(size=(3, 10)), x, rng.normal(size=10), eps=0.0)
    x_hat = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-13)
    np.testing.assert_allclose(np.sum(dx * x_hat, axis=1), 0.0, atol=1e-12)


def test_dtype_float32_is_kept():
    x = np.ones((2, 3), dtype=np.float32) * np.arange(3, dtype=np.float32)
    y = layer_norm(x, np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32))
    assert y.dtype == np.float32


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    assert sum(o["kind"] == "heatmap" for o in outputs) == 2
    ln_stats = next(o for o in outputs if o.get("label", "").startswith("layer norm: mean"))
    assert ln_stats["data"][0] == [0.0] * 4
    assert ln_stats["data"][1][0] < 0.9999 < ln_stats["data"][1][3]  # eps visible for sample 0
    dep = next(o for o in outputs if o.get("label", "").startswith("does sample 0"))
    (ln_row, bn_row) = dep["rows"]
    assert ln_row[1] == 0.0 and ln_row[2] is True
    assert bn_row[1] > 0.1 and bn_row[2] is False
    assert next(o for o in outputs if o["kind"] == "value")["value"] < 1e-12


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/layer-normalization.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "layer-normalization"
    assert concept.demo == "layer_normalization.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
