"""Convolution over the whole input equals a dense layer; parameter counts; im2col shapes."""

from pathlib import Path

import numpy as np
import pytest
from conv_as_dense import (
    conv2d,
    conv_weight_as_dense,
    demo,
    dense,
    dense_weight_as_conv,
    im2col,
    param_count,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def scalar_conv(x, w, b, stride=1):
    N, C, H, W = x.shape
    FN, _, FH, FW = w.shape
    Ho, Wo = (H - FH) // stride + 1, (W - FW) // stride + 1
    y = np.zeros((N, FN, Ho, Wo))
    for n in range(N):
        for f in range(FN):
            for i in range(Ho):
                for j in range(Wo):
                    acc = b[f]
                    for c in range(C):
                        for u in range(FH):
                            for v in range(FW):
                                acc += x[n, c, i * stride + u, j * stride + v] * w[f, c, u, v]
                    y[n, f, i, j] = acc
    return y


def scalar_dense(x_flat, w, b):
    N, D = x_flat.shape
    return np.array(
        [
            [sum(x_flat[n, d] * w[d, k] for d in range(D)) + b[k] for k in range(w.shape[1])]
            for n in range(N)
        ]
    )


def test_conv2d_matches_scalar_loop():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    for stride in (1, 2):
        np.testing.assert_allclose(
            conv2d(x, w, b, stride), scalar_conv(x, w, b, stride), rtol=1e-12, atol=1e-12
        )


def test_im2col_shapes_from_the_book():
    # 밑바닥1 ch. 7.4.3: (1, 3, 7, 7) with a 5x5 filter -> (9, 75); batch of 10 -> (90, 75).
    assert im2col(np.zeros((1, 3, 7, 7)), 5, 5).shape == (9, 75)
    assert im2col(np.zeros((10, 3, 7, 7)), 5, 5).shape == (90, 75)


def test_full_size_conv_equals_dense_4x4x16_to_10():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 16, 4, 4))
    w, b = rng.normal(size=(10, 16, 4, 4)), rng.normal(size=10)
    conv_out = conv2d(x, w, b)
    assert conv_out.shape == (3, 10, 1, 1)
    w_dense = conv_weight_as_dense(w)
    assert w_dense.shape == (256, 10)
    ref = scalar_dense(x.reshape(3, -1), w_dense, b)
    np.testing.assert_allclose(conv_out.reshape(3, 10), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense(x, w_dense, b), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scalar_conv(x, w, b).reshape(3, 10), ref, rtol=1e-12, atol=1e-12)


def test_parameter_counts():
    w, b = np.zeros((10, 16, 4, 4)), np.zeros(10)
    assert param_count(w) == 4 * 4 * 16 * 10 == 2560
    assert param_count(w, b) == 2570
    assert param_count(conv_weight_as_dense(w), b) == 2570


def test_dense_to_conv_round_trip_and_sliding():
    rng = np.random.default_rng(2)
    w_dense, b = rng.normal(size=(2 * 3 * 3, 5)), rng.normal(size=5)
    w_conv = dense_weight_as_conv(w_dense, 2, 3, 3)
    np.testing.assert_array_equal(conv_weight_as_dense(w_conv), w_dense)
    big = rng.normal(size=(1, 2, 5, 6))
    maps = conv2d(big, w_conv, b)  # (1, 5, 3, 4): the classifier at every 3x3 window
    assert maps.shape == (1, 5, 3, 4)
    for i in range(3):
        for j in range(4):
            crop = big[:, :, i : i + 3, j : j + 3].reshape(1, -1)
            np.testing.assert_allclose(
                maps[0, :, i, j], scalar_dense(crop, w_dense, b)[0], rtol=1e-12, atol=1e-12
            )


def test_flatten_order_matters():
    # A dense weight trained on (H, W, C)-flattened inputs is not the (C, H, W) conv weight.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 2, 2, 2))
    w_hwc = rng.normal(size=(8, 3))
    y_hwc = x.transpose(0, 2, 3, 1).reshape(1, -1) @ w_hwc
    wrong = conv2d(x, dense_weight_as_conv(w_hwc, 2, 2, 2), np.zeros(3)).reshape(1, 3)
    assert np.abs(wrong - y_hwc).max() > 1e-3
    # Reorder the rows (h, w, c) -> (c, h, w) first, then it matches.
    w_chw = w_hwc.reshape(2, 2, 2, 3).transpose(2, 0, 1, 3).reshape(8, 3)
    right = conv2d(x, dense_weight_as_conv(w_chw, 2, 2, 2), np.zeros(3)).reshape(1, 3)
    np.testing.assert_allclose(right, y_hwc, rtol=1e-12)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    params = next(o for o in outputs if o.get("label", "").startswith("parameters"))
    assert params["rows"][0][1:3] == [2560, 2560]
    assert params["rows"][2][1:3] == [2570, 2570]
    values = [o["value"] for o in outputs if o["kind"] == "value"]
    assert len(values) == 2 and max(values) < 1e-12
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    assert np.array(heat["data"]).shape == (3, 3)
    conv_arr = next(o for o in outputs if o.get("label", "").startswith("conv output"))
    dense_arr = next(o for o in outputs if o.get("label") == "dense output")
    assert conv_arr["data"] == dense_arr["data"]


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 2, 5)])
def test_any_full_size_kernel(shape):
    rng = np.random.default_rng(4)
    x = rng.normal(size=shape)
    w, b = rng.normal(size=(4, *shape[1:])), rng.normal(size=4)
    np.testing.assert_allclose(
        conv2d(x, w, b).reshape(shape[0], 4),
        dense(x, conv_weight_as_dense(w), b),
        rtol=1e-12,
        atol=1e-12,
    )


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/conv-as-dense.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "conv-as-dense"
    assert concept.demo == "conv_as_dense.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
