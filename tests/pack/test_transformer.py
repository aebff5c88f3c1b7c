"""The Transformer encoder-decoder: layers against the pack's independently tested pieces written
out per the paper, the whole backward pass against numerical gradients, causality, the toy
task, and the shipped weights (trained by scripts/train_transformer.py)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from common import relative_error, richardson_gradient
from layer_normalization import layer_norm
from masked_attention import causal_mask
from multi_head_attention import multi_head_attention
from positional_encoding import positional_encoding
from transformer import (
    BOS,
    EOS,
    HEADS,
    SRC_VOCAB,
    TGT_VOCAB,
    alignment_accuracy,
    decoder_layer,
    demo,
    encoder_layer,
    greedy_decode,
    init_transformer,
    load_params,
    toy_dataset,
    transformer_forward,
    transformer_loss,
    translate_words,
)

from studylog.demo import api as out

ROOT = Path(__file__).resolve().parents[2]


def small_model(seed=1):
    rng = np.random.default_rng(seed)
    p = init_transformer(7, 6, 8, 2, 12, 1, rng)
    for k in p:  # non-zero biases and LayerNorm parameters, so a wrong slice would show
        if k.endswith("bias") or "norm" in k:
            p[k] = p[k] + 0.1 * rng.normal(size=p[k].shape)
    return rng, p


def mha(x, mem, p, name, mask=None):
    return multi_head_attention(
        x,
        mem,
        mem,
        2,
        p[name + ".in_proj_weight"],
        p[name + ".in_proj_bias"],
        p[name + ".out_proj.weight"],
        p[name + ".out_proj.bias"],
        attn_mask=mask,
    )[0]


def ln(x, p, name):
    return layer_norm(x, p[name + ".weight"], p[name + ".bias"])


def ffn(x, p, n):
    h = np.maximum(x @ p[n + "linear1.weight"].T + p[n + "linear1.bias"], 0)
    return h @ p[n + "linear2.weight"].T + p[n + "linear2.bias"]


def test_layers_are_the_papers_post_ln_sublayers():
    rng, p = small_model()
    x, y = rng.normal(size=(2, 4, 8)), rng.normal(size=(2, 3, 8))
    e = "encoder.layers.0."
    h = ln(x + mha(x, x, p, e + "self_attn"), p, e + "norm1")
    np.testing.assert_allclose(
        encoder_layer(x, p, e, 2)[0], ln(h + ffn(h, p, e), p, e + "norm2"), rtol=1e-12
    )
    d = "decoder.layers.0."
    a = ln(y + mha(y, y, p, d + "self_attn", causal_mask(3)), p, d + "norm1")
    b = ln(a + mha(a, x, p, d + "multihead_attn"), p, d + "norm2")
    np.testing.assert_allclose(
        decoder_layer(y, x, p, d, 2)[0], ln(b + ffn(b, p, d), p, d + "norm3"), rtol=1e-12
    )


def test_embeddings_are_scaled_by_sqrt_d_and_get_sinusoidal_positions():
    rng, p = small_model()
    src = np.array([[1, 2, 3, 4]])
    _, cache = transformer_forward(p, src, np.array([[0, 1]]), 2)
    x0 = cache["enc"][0]["attn"]["query"]
    np.testing.assert_allclose(
        x0, p["src_embed.weight"][src] * math.sqrt(8) + positional_encoding(4, 8)
    )


def test_backward_matches_numerical_gradients():
    rng, p = small_model(seed=3)  # a seed whose ReLU inputs all sit > 0.01 from 0
    src, tgt = rng.integers(1, 7, (2, 4)), rng.integers(0, 6, (2, 5))
    _, cache = transformer_forward(p, src, tgt[:, :-1], 2)
    # Richardson uses steps of 1e-3 and 2e-3: keep every ReLU input away from its kink.
    for c in (cache["enc"][0]["ffn"], cache["dec"][0]["ffn"]):
        assert np.abs(c[1]).min() > 0.01
    _, grads = transformer_loss(p, src, tgt, 2)
    assert set(grads) == set(p)

    def loss():
        return transformer_loss(p, src, tgt, 2, with_grads=False)[0]

    for name, value in p.items():
        num = richardson_gradient(loss, value)
        if name.endswith("self_attn.in_proj_bias") or name.endswith("multihead_attn.in_proj_bias"):
            # b_k adds q·b_k to every score of a row: softmax ignores it, its gradient is exactly 0
            np.testing.assert_allclose(grads[name], num, atol=1e-9)
            np.testing.assert_allclose(grads[name][8:16], 0.0, atol=1e-15)
        else:
            assert relative_error(grads[name], num) < 1e-7, name


def test_the_decoder_cannot_see_later_target_tokens():
    rng, p = small_model()
    src, tgt = rng.integers(1, 7, (1, 4)), rng.integers(0, 6, (1, 5))
    logits, _ = transformer_forward(p, src, tgt, 2)
    changed = tgt.copy()
    changed[0, 3:] = (changed[0, 3:] + 1) % 6
    logits2, _ = transformer_forward(p, src, changed, 2)
    np.testing.assert_array_equal(logits[:, :3], logits2[:, :3])
    assert not np.allclose(logits[:, 3:], logits2[:, 3:])


def test_toy_task_grammar():
    assert translate_words("오늘", "그는", "사과를", "먹다") == (
        ["오늘", "그는", "사과를", "먹는다"],
        ["he", "eats", "apples", "today"],
    )
    assert translate_words("오늘", "나는", "물을", "마시다")[1] == ["I", "drink", "water", "today"]
    assert translate_words("어제", "그녀는", "책을", "사다")[1] == [
        "she",
        "bought",
        "books",
        "yesterday",
    ]
    src, tgt, hs, ht = toy_dataset()
    assert (len(src), len(hs)) == (102, 26) and src.shape[1] == 4 and tgt.shape[1] == 6
    assert np.all(tgt[:, 0] == BOS) and np.all(tgt[:, -1] == EOS)
    assert not ({tuple(r) for r in hs.tolist()} & {tuple(r) for r in src.tolist()})
    assert len(set(SRC_VOCAB)) == len(SRC_VOCAB) and len(set(TGT_VOCAB)) == len(TGT_VOCAB)


def test_shipped_weights_translate_held_out_sentences_and_align():
    p = load_params()
    _, _, src, tgt = toy_dataset()
    pred, cross = greedy_decode(p, src, BOS, EOS, tgt.shape[1] - 1, HEADS)
    assert np.mean(np.all(pred == tgt[:, 1:], axis=1)) == 1.0
    assert alignment_accuracy(p, src, tgt) == 1.0
    # mean over heads, one sentence: subject -> position 1, verb -> 3, object -> 2, time -> 0
    _, cache = transformer_forward(p, src[3:4], tgt[3:4, :-1], HEADS)
    w = cache["dec"][-1]["cross"]["weights"][0].mean(axis=0)
    assert w[:4].argmax(axis=1).tolist() == [1, 3, 2, 0]
    assert sum(v.size for v in p.values()) == 23_479
    assert (ROOT / "content" / "demos" / "transformer_toy.npz").stat().st_size < 200 * 1024


def test_the_training_script_is_seeded_and_learns():
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_transformer import noam_rate, train

    _, a = train(steps=30, log=False)
    _, b = train(steps=30, log=False)
    assert a == b  # bit-reproducible
    # near ln V = 3.18 at the start (Xavier-initialised output layer), far below it after 30 steps
    assert a[0] == pytest.approx(math.log(len(TGT_VOCAB)), abs=1.0) and a[-1] < 0.25 * a[0]
    # the paper's schedule: linear warm-up, peak at step = warmup, then step^-0.5
    assert noam_rate(100, 32, 100, 1.0) == pytest.approx(32**-0.5 * 100**-0.5)
    assert noam_rate(50, 32, 100, 1.0) == pytest.approx(noam_rate(100, 32, 100, 1.0) / 2)
    assert noam_rate(400, 32, 100, 1.0) == pytest.approx(noam_rate(100, 32, 100, 1.0) / 2)


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    acc = next(o for o in outputs if o["kind"] == "value")
    assert acc["value"] == 1.0
    heat = next(o for o in outputs if o["kind"] == "heatmap")
    data = np.array(heat["data"])
    assert data.shape == (5, 4) and data[:4].argmax(axis=1).tolist() == [1, 3, 2, 0]
    assert heat["x_labels"] == ["어제", "나는", "빵을", "샀다"]


def test_cross_attention_reads_keys_and_values_from_the_memory():
    from transformer import cross_attention

    rng, p = small_model()
    y, mem = rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 5, 8))
    name = "decoder.layers.0.multihead_attn"
    args = [
        p[name + k]
        for k in (".in_proj_weight", ".in_proj_bias", ".out_proj.weight", ".out_proj.bias")
    ]
    out_, w = cross_attention(y, mem, *args, 2)
    assert out_.shape == (2, 3, 8) and w.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(out_, mha(y, mem, p, name), rtol=1e-13)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-13)
