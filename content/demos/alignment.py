"""Dot-product attention over encoder states: alignment weights and the context vector.

    s_t = hs[:, t] · h               scores, (N, T)     "how similar is source t to h"
    a   = softmax(s) over t          weights, (N, T)    sum to 1 (the soft alignment)
    c   = sum_t a_t hs[:, t]         context, (N, H)    the weighted sum of encoder states

hs (N, T, H) are the encoder's hidden states, h (N, H) one decoder state.
밑바닥부터 시작하는 딥러닝 2, 8.1.3-8.1.5: the Attention Weight layer, the
Weight Sum layer, and the Attention layer that chains them (ch08/attention_layer.py).
Dot-product scoring is Luong, Pham & Manning (2015), eq. 8 ("dot").
"""

from __future__ import annotations

import numpy as np
from common import softmax

from studylog.demo import api as out


class AttentionWeight:
    """hs (N, T, H), h (N, H) -> a = softmax_t(hs · h), shape (N, T) (밑바닥2 8.1.4)."""

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        s = np.einsum("nth,nh->nt", hs, h)
        a = softmax(s, axis=1)
        self.cache = (hs, h, a)
        return a

    def backward(self, da: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """da (N, T) -> (dhs (N, T, H), dh (N, H))."""
        hs, h, a = self.cache
        ds = a * (da - np.sum(da * a, axis=1, keepdims=True))  # softmax Jacobian-vector product
        return ds[:, :, None] * h[:, None, :], np.einsum("nt,nth->nh", ds, hs)


class WeightSum:
    """hs (N, T, H), a (N, T) -> c = sum_t a_t hs_t, shape (N, H) (밑바닥2 8.1.3)."""

    def forward(self, hs: np.ndarray, a: np.ndarray) -> np.ndarray:
        self.cache = (hs, a)
        return np.einsum("nt,nth->nh", a, hs)

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dc (N, H) -> (dhs (N, T, H), da (N, T))."""
        hs, a = self.cache
        return a[:, :, None] * dc[:, None, :], np.einsum("nth,nh->nt", hs, dc)


class Attention:
    """AttentionWeight then WeightSum: hs (N, T, H), h (N, H) -> context c (N, H) (밑바닥2 8.1.5).

    The weights of the last forward pass are kept in ``attention_weight`` (N, T).
    """

    def __init__(self) -> None:
        self.weight_layer = AttentionWeight()
        self.sum_layer = WeightSum()
        self.attention_weight: np.ndarray | None = None

    def forward(self, hs: np.ndarray, h: np.ndarray) -> np.ndarray:
        a = self.weight_layer.forward(hs, h)
        self.attention_weight = a
        return self.sum_layer.forward(hs, a)

    def backward(self, dc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """dc (N, H) -> (dhs (N, T, H), dh (N, H)); hs gets gradient through both layers."""
        dhs0, da = self.sum_layer.backward(dc)
        dhs1, dh = self.weight_layer.backward(da)
        return dhs0 + dhs1, dh


def demo() -> None:
    # Hand-made encoder states for "나 는 고양이 로소 이다" ("I am a cat", 밑바닥2 8.1).
    # Features: [person, particle, animal, copula].
    src = ["나", "는", "고양이", "로소", "이다"]
    hs = np.array(
        [
            [2.0, 0.0, 0.0, 0.0],  # 나: a person
            [0.0, 2.0, 0.0, 0.0],  # 는: a particle
            [0.0, 0.0, 2.0, 0.0],  # 고양이: an animal
            [0.0, 0.6, 0.0, 1.4],  # 로소: particle-like, part of the copula
            [0.0, 0.0, 0.0, 2.0],  # 이다: the copula ("be")
        ]
    )[None]
    # Hand-made decoder states, one per English output word: what each step "looks for".
    tgt = ["I", "am", "a", "cat"]
    dec = np.array(
        [
            [1.5, 0.0, 0.0, 0.0],  # I   -> a person
            [0.0, 0.0, 0.0, 1.5],  # am  -> the copula
            [0.2, 0.2, 0.2, 0.2],  # a   -> nothing in particular (Korean has no article)
            [0.0, 0.0, 1.5, 0.0],  # cat -> an animal
        ]
    )
    feats = ["person", "particle", "animal", "copula"]
    out.array("encoder states hs (T, H)", hs[0], rows=src, cols=feats)

    layer = Attention()
    weights, contexts = [], []
    for h in dec:
        contexts.append(layer.forward(hs, h[None])[0])
        weights.append(layer.attention_weight[0])
    weights = np.array(weights)

    scores = hs[0] @ dec[3]
    out.table(
        "output 'cat': scores s_t = hs_t · h, then a = softmax(s)",
        columns=["source", "score", "weight"],
        rows=[[w, float(s), float(a)] for w, s, a in zip(src, scores, weights[3], strict=True)],
    )
    out.array("context for 'cat': c = Σ a_t hs_t", contexts[3], rows=["c"], cols=feats)
    out.heatmap(
        "attention weights (alignment): output word × source word",
        weights,
        x_labels=src,
        y_labels=tgt,
        x_title="source (encoder)",
        y_title="output (decoder)",
    )
    out.text(
        "Each row sums to 1. 'I' aligns with 나, 'am' with 이다 (and a little 로소), 'cat' "
        "with 고양이; 'a' has no counterpart, so its weights are spread out. The alignment "
        "(얼라인먼트) is not given; it comes from dot products, and it is differentiable."
    )

    rows = []
    for scale in (0.5, 1.0, 2.0, 4.0):
        a = AttentionWeight().forward(hs, scale * dec[3][None])[0]
        rows.append([scale, float(a.max()), float(-(a * np.log(a)).sum())])
    out.table(
        "scaling h sharpens the softmax ('cat' step)",
        columns=["h multiplied by", "weight on 고양이", "entropy (nats)"],
        rows=rows,
    )
