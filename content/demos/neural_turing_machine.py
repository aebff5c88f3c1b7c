"""Neural Turing Machine memory addressing, read head and write head, in NumPy.

Addressing (Graves, Wayne & Danihelka 2014, sec. 3.3, eqs. 5-9), one head, one step:

    content   w_c(i) = softmax_i(beta * K[k, M(i)]),  K = cosine similarity   (5, 6)
    interpol. w_g = g * w_c + (1 - g) * w_prev                                  (7)
    shift     w_s(i) = sum_j w_g(j) s(i - j)   (indices mod N)                  (8)
    sharpen   w(i) = w_s(i)^gamma / sum_j w_s(j)^gamma                          (9)

Read (eq. 2): r = sum_i w(i) M(i). Write (eqs. 3-4): erase then add,
M(i) <- M(i) * (1 - w(i) e) + w(i) a.

Source: Graves et al. (2014), Neural Turing Machines, arXiv:1410.5401;
밑바닥부터 시작하는 딥러닝 2, ch. 8.5.3 (뉴럴 튜링 머신).
"""

from __future__ import annotations

import numpy as np
from common import softmax


def cosine_similarity(key: np.ndarray, memory: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """K[k, M(i)] = k . M(i) / (||k|| ||M(i)||) for every row i (eq. 6).

    key (M,), memory (N, M) -> (N,) in [-1, 1]. eps keeps an all-zero row at similarity 0.
    """
    return memory @ key / (np.linalg.norm(memory, axis=1) * np.linalg.norm(key) + eps)


def content_addressing(memory: np.ndarray, key: np.ndarray, beta: float) -> np.ndarray:
    """Content weighting w_c (eq. 5): softmax over locations of beta times the cosine similarity.

    beta >= 0 is the key strength: 0 gives a uniform weighting, large beta focuses on
    the most similar row. Returns (N,), non-negative, summing to 1.
    """
    return softmax(beta * cosine_similarity(key, memory))


def interpolate(w_content: np.ndarray, w_prev: np.ndarray, g: float) -> np.ndarray:
    """Interpolation gate (eq. 7): g = 1 uses the content weighting, g = 0 keeps w_prev."""
    return g * w_content + (1.0 - g) * w_prev


def circular_shift(
    w: np.ndarray, s: np.ndarray, shifts: tuple[int, ...] = (-1, 0, 1)
) -> np.ndarray:
    """Circular convolution with a shift weighting (eq. 8).

    Args:
        w: (N,) weighting.
        s: (len(shifts),) distribution over the allowed integer shifts; s[k] is the
           weight of moving the focus by shifts[k] locations (+1 = to the next row).
        shifts: the allowed shifts (the paper's example allows -1, 0, +1).

    Returns:
        (N,): w_s(i) = sum_k s[k] * w(i - shifts[k] mod N).
    """
    # np.roll(w, n)[i] = w[i - n]: rolling by +1 moves every weight one location forward.
    return sum(weight * np.roll(w, shift) for weight, shift in zip(s, shifts, strict=True))


def sharpen(w: np.ndarray, gamma: float) -> np.ndarray:
    """Sharpening (eq. 9): raise to gamma >= 1 and renormalise, undoing the blur of the shift."""
    powered = w**gamma
    return powered / powered.sum()


def address(
    memory: np.ndarray,
    w_prev: np.ndarray,
    key: np.ndarray,
    beta: float,
    g: float,
    s: np.ndarray,
    gamma: float,
    shifts: tuple[int, ...] = (-1, 0, 1),
) -> np.ndarray:
    """The full addressing pipeline of one head (Graves et al. 2014, fig. 2, eqs. 5-9).

    memory (N, M), w_prev (N,), key (M,); beta >= 0, g in [0, 1], s a distribution
    over ``shifts``, gamma >= 1. Returns the new weighting (N,).
    """
    w_c = content_addressing(memory, key, beta)
    w_g = interpolate(w_c, w_prev, g)
    w_s = circular_shift(w_g, s, shifts)
    return sharpen(w_s, gamma)


def read(memory: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Read vector r = sum_i w(i) M(i) (eq. 2): (N, M), (N,) -> (M,)."""
    return w @ memory


def write(memory: np.ndarray, w: np.ndarray, erase: np.ndarray, add: np.ndarray) -> np.ndarray:
    """Erase then add (eqs. 3-4); returns the new memory (N, M), the input is not changed.

    erase (M,) in [0, 1]: a location is cleared only where both w(i) and e are 1.
    add (M,): written in proportion to w(i).
    """
    erased = memory * (1.0 - np.outer(w, erase))  # eq. 3
    return erased + np.outer(w, add)  # eq. 4


def demo() -> None:
    from studylog.demo import api as out

    rng = np.random.default_rng(0)
    N, M = 8, 4
    memory = rng.standard_normal((N, M)).round(2)
    locs = [str(i) for i in range(N)]
    out.text(
        "An NTM controller (e.g. an LSTM) reads and writes an external memory of N rows "
        "through soft weightings over the rows: attention over memory locations."
    )
    out.array(
        "memory M (N = 8 locations, M = 4)", memory, rows=locs, cols=[f"m{j}" for j in range(M)]
    )

    key = memory[2] + 0.1 * rng.standard_normal(M)
    sims = cosine_similarity(key, memory)
    out.table(
        "content addressing with a noisy copy of row 2 as key",
        columns=["beta", *locs],
        rows=[[b, *np.round(content_addressing(memory, key, b), 3)] for b in (0.0, 1.0, 5.0, 50.0)],
    )
    out.array("cosine similarity K[k, M(i)]", sims.round(3), cols=locs)

    # Step 0: find row 2 by content. Steps 1..5: ignore content (g = 0) and move +1.
    move_on = np.array([0.0, 0.1, 0.9])  # weights of shifts -1, 0, +1
    steps, weightings_sharp, weightings_blur = 6, [], []
    for gamma, history in ((3.0, weightings_sharp), (1.0, weightings_blur)):
        w = np.full(N, 1.0 / N)
        for t in range(steps):
            if t == 0:
                w = address(
                    memory, w, key, beta=50.0, g=1.0, s=np.array([0.0, 1.0, 0.0]), gamma=1.0
                )
            else:
                w = address(memory, w, key, beta=50.0, g=0.0, s=move_on, gamma=gamma)
            history.append(w)
    step_labels = ["t0 content", *[f"t{t} shift+1" for t in range(1, steps)]]
    out.heatmap(
        "head weighting per step, sharpening gamma = 3",
        np.array(weightings_sharp).round(3),
        x_labels=locs,
        y_labels=step_labels,
        x_title="memory location",
        y_title="step",
    )
    out.heatmap(
        "the same steps without sharpening (gamma = 1): the focus blurs",
        np.array(weightings_blur).round(3),
        x_labels=locs,
        y_labels=step_labels,
        x_title="memory location",
        y_title="step",
    )
    out.table(
        "largest weight per step",
        columns=["step", "argmax gamma=3", "max gamma=3", "argmax gamma=1", "max gamma=1"],
        rows=[
            [
                t,
                int(np.argmax(a)),
                round(float(a.max()), 3),
                int(np.argmax(b)),
                round(float(b.max()), 3),
            ]
            for t, (a, b) in enumerate(zip(weightings_sharp, weightings_blur, strict=True))
        ],
    )
    out.text(
        "Content addressing finds where something is; the gate g = 0 then keeps the previous "
        "weighting, the shift walks it along the memory like a tape head (2, 3, 4, ...), and "
        "sharpening stops the 0.1 'stay' probability from smearing it out. Graves et al. "
        "(sec. 4.1) found the trained NTM doing exactly this in the copy task: find the "
        "start by content, then step through the locations one shift at a time."
    )

    w = weightings_sharp[1]  # focused on location 3
    new_row = np.array([1.0, -1.0, 0.5, 2.0])
    written = write(memory, w, erase=np.ones(M), add=new_row)
    out.array(
        "write at step 1: erase = 1, add = (1, -1, 0.5, 2); rows 2-4 after",
        written[2:5].round(3),
        rows=locs[2:5],
        cols=[f"m{j}" for j in range(M)],
    )
    out.array(
        "read with the same weighting", read(written, w).round(3), cols=[f"m{j}" for j in range(M)]
    )
