"""ViT patch embedding: equal to a stride-P convolution, eq. 1 assembly, pooling, known sizes."""

from pathlib import Path

import numpy as np
import pytest
from multi_head_attention import init_params, multi_head_attention
from vit_patch_embedding import (
    conv2d_stride_loop,
    demo,
    embed,
    image_to_patches,
    patch_embedding,
    pool,
    projection_params,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def scalar_conv(images, weight, bias, stride):
    """Cross-correlation as in nn.Conv2d, every multiply-add written out."""
    N, C, H, W = images.shape
    D, _, K, _ = weight.shape
    Ho, Wo = (H - K) // stride + 1, (W - K) // stride + 1
    y = np.zeros((N, D, Ho, Wo))
    for n in range(N):
        for d in range(D):
            for i in range(Ho):
                for j in range(Wo):
                    acc = bias[d]
                    for c in range(C):
                        for u in range(K):
                            for v in range(K):
                                acc += (
                                    images[n, c, i * stride + u, j * stride + v]
                                    * weight[d, c, u, v]
                                )
                    y[n, d, i, j] = acc
    return y


def test_projection_equals_convolution_kernel_equals_stride():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 3, 8, 12))
    weight, bias = rng.normal(size=(5, 3, 4, 4)), rng.normal(size=5)
    tokens = patch_embedding(images, weight, bias)  # (2, 6, 5)
    conv = scalar_conv(images, weight, bias, stride=4)  # (2, 5, 2, 3)
    # Conv output flattened over (row, col), channels last: the usual flatten(2).transpose(1, 2).
    np.testing.assert_allclose(
        tokens, conv.reshape(2, 5, 6).transpose(0, 2, 1), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        conv2d_stride_loop(images, weight, bias, 4), conv, rtol=1e-12, atol=1e-12
    )


def test_patch_order_and_content():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(1, 2, 6, 9))
    p = image_to_patches(images, 3)
    assert p.shape == (1, 6, 18)
    for r in range(2):
        for c in range(3):
            expected = images[0, :, 3 * r : 3 * r + 3, 3 * c : 3 * c + 3].reshape(-1)  # (C, P, P)
            np.testing.assert_array_equal(p[0, r * 3 + c], expected)
    # Every pixel appears exactly once.
    np.testing.assert_array_equal(np.sort(p.ravel()), np.sort(images.ravel()))


def test_rejects_size_not_multiple_of_patch():
    with pytest.raises(ValueError):
        image_to_patches(np.zeros((1, 1, 10, 10)), 3)


def test_eq1_assembly():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(2, 1, 4, 4))
    weight, bias = rng.normal(size=(3, 1, 2, 2)), rng.normal(size=3)
    cls, pos = rng.normal(size=3), rng.normal(size=(5, 3))
    z0 = embed(images, weight, bias, cls, pos)
    assert z0.shape == (2, 5, 3)
    for n in range(2):
        np.testing.assert_allclose(z0[n, 0], cls + pos[0])  # the same [CLS] for every image
        for i in range(4):
            r, c = divmod(i, 2)
            x_p = images[n, 0, 2 * r : 2 * r + 2, 2 * c : 2 * c + 2].reshape(-1)
            np.testing.assert_allclose(
                z0[n, 1 + i], x_p @ weight.reshape(3, 4).T + bias + pos[1 + i]
            )


def test_vit_b16_published_sizes():
    # ViT-B/16 on 224x224 RGB: 14 x 14 = 196 patches, 197 tokens with [CLS], a 768-dim patch,
    # and a 16x16x3 -> 768 projection with 589,824 weights + 768 biases.
    b16 = projection_params(224, 3, 16, 768)
    assert b16 == {"patches": 196, "tokens": 197, "patch_dim": 768, "params": 590_592}
    assert projection_params(224, 3, 32, 768)["patches"] == 49
    images = np.zeros((1, 3, 224, 224))
    assert image_to_patches(images, 16).shape == (1, 196, 768)


def test_pooling():
    tokens = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3)
    np.testing.assert_array_equal(pool(tokens, "cls"), tokens[:, 0])
    np.testing.assert_allclose(pool(tokens, "mean"), tokens[:, 1:].mean(axis=1))
    np.testing.assert_allclose(pool(tokens, "mean")[0], [6.0, 7.0, 8.0])  # rows 1..3 of 0..11
    with pytest.raises(ValueError):
        pool(tokens, "max")


def test_without_positions_patch_order_is_invisible():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(1, 1, 6, 6))
    weight, bias = rng.normal(size=(4, 1, 3, 3)), rng.normal(size=4)
    cls = rng.normal(size=4)
    ap = init_params(4, rng)
    perm = np.r_[0, 1 + rng.permutation(4)]

    def pooled(pos, shuffle):
        z = embed(images, weight, bias, cls, np.zeros((5, 4)))
        if shuffle:
            z = z[:, perm]
        z = z + pos
        z = z + multi_head_attention(z, z, z, 2, **ap)[0]
        return pool(z, "cls"), pool(z, "mean")

    zero = np.zeros((5, 4))
    for a, b in zip(pooled(zero, False), pooled(zero, True), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    pos = rng.normal(size=(5, 4))
    cls_a, _ = pooled(pos, False)
    cls_b, _ = pooled(pos, True)
    assert np.abs(cls_a - cls_b).max() > 1e-3


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    diff = next(o for o in outputs if o["kind"] == "value")
    assert diff["value"] < 1e-12
    sizes = next(o for o in outputs if o.get("label") == "sequence length and projection size")
    assert sizes["rows"][0] == ["ViT-B/16", "224x224x3", 16, 196, 197, 768, 590592]
    shuffle = next(o for o in outputs if o.get("label", "").startswith("shuffle"))
    (no_pos, with_pos) = shuffle["rows"]
    assert max(no_pos[1:]) < 1e-12 and with_pos[1] > 1e-3
    z0 = next(o for o in outputs if o.get("label", "").startswith("z_0"))
    assert len(z0["data"]) == 10 and z0["y_labels"][0] == "[CLS]"


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/vit-patch-embedding.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "vit-patch-embedding"
    assert concept.demo == "vit_patch_embedding.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)
