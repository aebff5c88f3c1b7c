"""U-Net skips: the paper's published feature-map sizes, concat/crop and its backward, addition."""

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from unet_skip_connection import (
    center_crop,
    concat_skip,
    concat_skip_backward,
    demo,
    max_pool2,
    residual_add,
    unet_shapes,
    upsample2,
)

from studylog.demo import api as out


def test_shapes_are_those_of_the_papers_figure_1():
    # Ronneberger et al. (2015), Fig. 1: 572 -> 570 -> 568 (64 ch), pool 284, ..., 28x28x1024
    # at the bottom, up 56 (concat with the 64x64 map cropped to 56), ..., 388x388x2 out.
    rows = unet_shapes()
    sizes = [r[2] for r in rows if "conv3x3" in r[0]]
    assert sizes == [568, 280, 136, 64, 28, 52, 100, 196, 388]
    channels = [r[1] for r in rows if "conv3x3" in r[0]]
    assert channels == [64, 128, 256, 512, 1024, 512, 256, 128, 64]
    concats = [(r[1], r[2]) for r in rows if "concat" in r[0]]
    assert concats == [(1024, 56), (512, 104), (256, 200), (128, 392)]
    assert rows[-1] == ["output: conv1x1", 2, 388]


def test_concat_stacks_channels_after_a_centre_crop():
    rng = np.random.default_rng(0)
    up, skip = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 5, 8, 8))
    y = concat_skip(up, skip)
    assert y.shape == (2, 8, 4, 4)
    np.testing.assert_array_equal(y[:, :3], up)
    np.testing.assert_array_equal(y[:, 3:], skip[:, :, 2:6, 2:6])  # (8 - 4) / 2 = 2 on each side
    with pytest.raises(ValueError, match="cannot center-crop"):
        concat_skip(skip, up)
    with pytest.raises(ValueError, match="cannot center-crop 8x8 to 5x5"):
        center_crop(skip, 5, 5)


def test_concat_backward_splits_by_channel_and_zeroes_the_cropped_border():
    rng = np.random.default_rng(1)
    up, skip = rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(1, 3, 6, 6))
    w = rng.normal(size=(1, 5, 4, 4))

    def loss():
        return float(np.sum(concat_skip(up, skip) * w))

    d_up, d_skip = concat_skip_backward(w, 2, skip.shape)
    assert relative_error(d_up, numerical_gradient(loss, up)) < 1e-6
    np.testing.assert_allclose(d_skip, numerical_gradient(loss, skip), atol=1e-9)
    assert np.all(d_skip[..., 0, :] == 0) and np.all(d_skip[..., :, -1] == 0)


def test_addition_needs_equal_shapes_and_is_concat_with_a_fixed_weight():
    a, b = np.ones((1, 2, 3, 3)), np.full((1, 2, 3, 3), 2.0)
    np.testing.assert_array_equal(residual_add(a, b), 3.0)
    with pytest.raises(ValueError, match="equal shapes"):
        residual_add(a, np.ones((1, 4, 3, 3)))
    # written out: a 1x1 conv over [a ; b] with weights [I | I] sums channel c of a and of b
    cat = concat_skip(a, b)
    summed = np.stack([cat[:, c] + cat[:, 2 + c] for c in range(2)], axis=1)
    np.testing.assert_array_equal(summed, residual_add(a, b))


def test_pool_and_upsample():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert max_pool2(x)[0, 0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert upsample2(max_pool2(x)).shape == (1, 1, 4, 4)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    table = next(o for o in outputs if o["kind"] == "table" and "readout" in o["label"])
    (no_skip, with_skip) = table["rows"]
    assert with_skip[1] == 2 and with_skip[3] == 0  # exact with the copied full-resolution map
    assert no_skip[3] == 67 and no_skip[2] == "73.8%"  # the text: 74% without the skip
    assert next(o for o in outputs if o["kind"] == "value")["value"] is True
