"""Train the attention seq2seq of content/demos/attention.py to reverse digit strings.

Pure NumPy: the model's own forward/backward (attention.py), gradient clipping
(밑바닥2 6.1.4) and Adam (Kingma & Ba 2015, Algorithm 1). The data are generated
on the fly from a seeded generator; the 100 held-out strings used by the demo and
the tests are never trained on. The default 1000 iterations take under a
minute on one CPU core.

    .venv/bin/python scripts/train_attention.py            # writes content/demos/attention_seq2seq.npz
    .venv/bin/python scripts/train_attention.py --iters 200 --out /tmp/try.npz
    .venv/bin/python scripts/train_attention.py --model plain  # seq2seq without attention,
                                                               # writes content/demos/seq2seq_reverse.npz
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Small matrices: one BLAS thread is much faster than several threads that spin-wait
# on a busy 2-core machine (measured ~14x per iteration). Must be set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

DEMOS = Path(__file__).resolve().parents[1] / "content" / "demos"
PLAIN_WEIGHTS = DEMOS / "seq2seq_reverse.npz"
sys.path.insert(0, str(DEMOS))

from attention import (  # noqa: E402  (after the sys.path line on purpose)
    CHARS,
    START,
    WEIGHTS,
    AttentionSeq2seq,
    exact_match_accuracy,
    held_out_set,
    init_attention_seq2seq,
    make_reversal_data,
)
from seq2seq import Seq2seq, init_seq2seq  # noqa: E402
from vanishing_exploding_gradients import clip_grads  # noqa: E402


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1), updating the parameter arrays in place.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            if k not in self.m:
                self.m[k] = np.zeros_like(g)
                self.v[k] = np.zeros_like(g)
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1**self.t)
            v_hat = self.v[k] / (1 - self.beta2**self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # in place: layers share it


def training_batch(
    n: int, rng: np.random.Generator, exclude: set[tuple[int, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """n fresh reversal examples minus any whose source is in ``exclude`` (the held-out set)."""
    xs, ts = make_reversal_data(n, rng)
    keep = np.array([tuple(x) not in exclude for x in xs.tolist()])
    return xs[keep], ts[keep]


def train(
    iters: int = 1000,
    batch: int = 128,
    embed: int = 16,
    hidden: int = 64,
    lr: float = 5e-3,
    max_norm: float = 5.0,
    seed: int = 0,
    log_every: int = 100,
    log: bool = True,
    model_kind: str = "attention",
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train from scratch; returns (float64 params, loss per iteration).

    ``model_kind`` "attention" trains attention.py's AttentionSeq2seq; "plain" trains
    seq2seq.py's Seq2seq (only the last encoder state reaches the decoder) with the
    same data, sizes, optimiser and seed, so the two can be compared on one task.
    """
    rng = np.random.default_rng(seed)
    if model_kind == "attention":
        params = init_attention_seq2seq(len(CHARS), embed, hidden, rng)
        model = AttentionSeq2seq(params)
    else:
        params = init_seq2seq(len(CHARS), embed, hidden, rng)
        model = Seq2seq(params)
    opt = Adam(lr)
    held_xs, held_ts = held_out_set()
    held = {tuple(x) for x in held_xs.tolist()}
    losses: list[float] = []
    start = time.perf_counter()
    for it in range(1, iters + 1):
        xs, ts = training_batch(batch, rng, exclude=held)
        losses.append(model.forward(xs, ts))
        model.backward()
        names = list(params)
        clipped, _ = clip_grads([model.grads[k] for k in names], max_norm)
        opt.update(params, dict(zip(names, clipped, strict=True)))
        if log and (it % log_every == 0 or it == iters):
            acc = exact_match_accuracy(model, held_xs, held_ts)
            elapsed = time.perf_counter() - start
            print(
                f"iter {it:5d}  loss {np.mean(losses[-log_every:]):.4f}  "
                f"held-out exact match {acc:.2f}  {elapsed:.0f} s",
                flush=True,
            )
    return params, losses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--embed", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--model",
        choices=["attention", "plain"],
        default="attention",
        help="plain: seq2seq.py's model without attention (writes seq2seq_reverse.npz)",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or (WEIGHTS if args.model == "attention" else PLAIN_WEIGHTS)
    params, _ = train(
        args.iters,
        args.batch,
        args.embed,
        args.hidden,
        args.lr,
        seed=args.seed,
        model_kind=args.model,
    )
    args.out = out
    np.savez_compressed(args.out, **{k: v.astype(np.float32) for k, v in params.items()})
    print(
        f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB); start token {CHARS[START]!r}"
    )


if __name__ == "__main__":
    main()
