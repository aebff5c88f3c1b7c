"""Sinusoidal positional encoding of the Transformer.

    PE(pos, 2i)     = sin(pos / 10000^(2i / d_model))
    PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model))

Source: Vaswani et al. (2017), Attention Is All You Need, sec. 3.5.
"""

from __future__ import annotations

import numpy as np


def positional_encoding(
    length: int, d_model: int, base: float = 10000.0, dtype=np.float64
) -> np.ndarray:
    """Sinusoidal position encodings (Vaswani et al. 2017, sec. 3.5).

    Args:
        length: number of positions (pos = 0 .. length-1).
        d_model: encoding width (even or odd; an odd width drops the last cos column).
        base: 10000 in the paper; the wavelengths run from 2*pi to base * 2*pi.

    Returns:
        (length, d_model) array: even columns 2i hold sin(pos * w_i), odd columns
        2i+1 hold cos(pos * w_i), with angular frequency w_i = base^(-2i / d_model)
        (radians per position).
    """
    pos = np.arange(length, dtype=np.float64)[:, None]  # (length, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)  # 0, 2, 4, ...
    freq = base ** (-two_i / d_model)  # w_i, (ceil(d_model / 2),)
    angles = pos * freq  # (length, ceil(d_model / 2))
    pe = np.zeros((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe.astype(dtype)


def offset_rotation(k: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The (d_model, d_model) matrix R_k with PE[pos + k] = PE[pos] @ R_k for every pos.

    Block-diagonal: each (sin, cos) pair is rotated by the angle k * w_i, because
    sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b.
    It does not depend on pos, which is why the paper expects relative positions to
    be easy to learn ("PE_{pos+k} can be represented as a linear function of PE_pos").
    d_model must be even.
    """
    R = np.zeros((d_model, d_model))
    for i in range(d_model // 2):
        a = k * base ** (-2 * i / d_model)
        c, s = np.cos(a), np.sin(a)
        # Row vector [sin, cos] @ [[c, -s], [s, c]] = [sin c + cos s, -sin s + cos c].
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, -s], [s, c]]
    return R


def demo() -> None:
    from studylog.demo import api as out

    L, d = 12, 12
    pe = positional_encoding(L, d)
    dims = [f"{'sin' if j % 2 == 0 else 'cos'} {j // 2}" for j in range(d)]
    out.text(
        "Attention alone ignores order: permuting the tokens just permutes the outputs. The "
        "Transformer adds a fixed vector PE[pos] to each token embedding. Column pair i is a "
        "sine and a cosine of frequency 10000^(-2i/d_model): the first pairs change fast, "
        "the last ones barely move over 12 positions."
    )
    out.heatmap(
        "positional encoding PE (d_model = 12)",
        pe.round(3),
        x_labels=dims,
        y_labels=[str(p) for p in range(L)],
        x_title="dimension (sin/cos pair i)",
        y_title="position",
    )
    out.array("PE[1]", pe[1].round(4), cols=dims)

    long = positional_encoding(64, 64)
    out.line(
        "PE columns over 64 positions (d_model = 64)",
        x=list(range(64)),
        series={f"dim {j}": long[:, j].round(4) for j in (0, 2, 8, 16)},
        x_title="position",
        y_title="PE value",
    )

    gram = pe @ pe.T
    out.heatmap(
        "PE[p] . PE[q] (constant along each diagonal: depends only on q - p)",
        gram.round(2),
        x_labels=[str(p) for p in range(L)],
        y_labels=[str(p) for p in range(L)],
        x_title="position q",
        y_title="position p",
    )
    big = positional_encoding(40, d)
    offsets = [0, 1, 2, 3, 5, 8]
    out.table(
        "dot products PE[p] . PE[p + k] for different starting positions p",
        columns=["offset k", "p = 0", "p = 7", "p = 20", "sum_i cos(k w_i)"],
        rows=[
            [
                k,
                *(round(float(big[p] @ big[p + k]), 6) for p in (0, 7, 20)),
                round(float(np.sum(np.cos(k * 10000.0 ** (-np.arange(0, d, 2) / d)))), 6),
            ]
            for k in offsets
        ],
    )
    out.text(
        "Since sin a sin b + cos a cos b = cos(a - b), PE[p] . PE[p + k] = sum_i cos(k w_i) "
        "for every p: the dot product sees only the offset k. Every row also has norm "
        f"sqrt(d_model / 2) = {np.sqrt(d / 2):.4f}, so PE[p] . PE[p] is {d // 2} everywhere."
    )
    R3 = offset_rotation(3, d)
    out.value(
        "max |PE[pos + 3] - PE[pos] @ R_3| over pos = 0..36",
        float(np.abs(big[3:] - big[:-3] @ R3).max()),
    )
