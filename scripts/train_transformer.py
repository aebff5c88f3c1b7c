"""Train the toy Transformer of content/demos/transformer.py (Korean SOV -> English SVO).

Pure NumPy: the model's own forward/backward (transformer.py) and Adam with the
paper's settings, beta2 = 0.98 and the warm-up schedule
lrate = scale * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) (Vaswani et al.
2017, sec. 5.3, eq. 3). Full batch over the 102 training pairs; the 26 held-out
pairs (every 5th) are never trained on. Seeded, so a run is reproducible; the
default 300 steps take about 5 s of CPU time (under a minute on a busy machine).

    .venv/bin/python scripts/train_transformer.py              # writes content/demos/transformer_toy.npz
    .venv/bin/python scripts/train_transformer.py --steps 100 --out /tmp/try.npz
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrices: one BLAS thread is fastest

import numpy as np  # noqa: E402

DEMOS = Path(__file__).resolve().parents[1] / "content" / "demos"
sys.path.insert(0, str(DEMOS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_attention import Adam  # noqa: E402
from transformer import (  # noqa: E402
    BOS,
    EOS,
    HEADS,
    SRC_VOCAB,
    TGT_VOCAB,
    WEIGHTS,
    alignment_accuracy,
    greedy_decode,
    init_transformer,
    learning_rate,
    toy_dataset,
    transformer_loss,
)


def exact_match(params: dict[str, np.ndarray], src: np.ndarray, tgt: np.ndarray) -> float:
    pred, _ = greedy_decode(params, src, BOS, EOS, tgt.shape[1] - 1, HEADS)
    return float(np.mean(np.all(pred == tgt[:, 1:], axis=1)))


def noam_rate(step: int, d_model: int, warmup: int, scale: float) -> float:
    """The paper's learning-rate schedule (sec. 5.3, transformer.learning_rate), times ``scale``."""
    return scale * learning_rate(step, d_model, warmup)


def train(
    steps: int = 300,
    d_model: int = 32,
    d_ff: int = 64,
    layers: int = 1,
    warmup: int = 100,
    scale: float = 1.0,
    seed: int = 0,
    log_every: int = 50,
    log: bool = True,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train from scratch; returns (float64 params, training loss per step)."""
    rng = np.random.default_rng(seed)
    src, tgt, held_src, held_tgt = toy_dataset()
    params = init_transformer(len(SRC_VOCAB), len(TGT_VOCAB), d_model, HEADS, d_ff, layers, rng)
    opt = Adam(beta2=0.98, eps=1e-9)
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        loss, grads = transformer_loss(params, src, tgt, HEADS)
        losses.append(loss)
        opt.lr = noam_rate(step, d_model, warmup, scale)
        opt.update(params, grads)
        if log and (step % log_every == 0 or step == steps):
            print(
                f"step {step:4d}  loss {loss:.4f}  held-out exact match "
                f"{exact_match(params, held_src, held_tgt):.2f}  "
                f"alignment {alignment_accuracy(params, held_src, held_tgt):.2f}  "
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
    return params, losses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    args = ap.parse_args()
    params, _ = train(args.steps, seed=args.seed)
    np.savez_compressed(args.out, **{k: v.astype(np.float32) for k, v in params.items()})
    print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
