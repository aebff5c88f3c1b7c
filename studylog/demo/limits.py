"""Resource limits and output caps for one demo run.

Kept free of imports beyond the standard library: the runner (parent) builds a
:class:`Limits`, sends it to the child harness as JSON, and the harness applies
it with :mod:`resource` before the demo imports NumPy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one demo run may use.

    Attributes:
        timeout_s: wall-clock seconds from process start; then the whole process
            group is killed (status ``timeout``).
        cpu_s: CPU seconds (RLIMIT_CPU, per process). ``None`` means
            ``ceil(timeout_s) + 2``: single-threaded code hits the wall-clock
            timeout first, and the CPU limit is the backstop that stops the
            child on its own if the parent dies before it can kill it.
        memory_bytes: address space (RLIMIT_AS). 1 GiB leaves room for NumPy
            with single-threaded BLAS (measured: NumPy imports under 256 MiB).
        file_bytes: largest file the demo may write (RLIMIT_FSIZE), in its
            temporary working directory or anywhere else.
        scratch_bytes: total bytes the code may write in its working folder
            under the sandbox (a RAM-backed tmpfs of this size, gone when the
            run ends), so many files of ``file_bytes`` each cannot fill the
            disk. Without the sandbox only ``file_bytes`` applies.
        max_output_bytes: total size of the outputs as JSON, in bytes.
        max_outputs: number of outputs (texts count too).
        max_array_elements: an array or heatmap with more elements is
            summarised (array) or cropped (heatmap).
        max_line_points: a line plot with more x values is downsampled.
        max_table_rows: a table with more rows is cut.
    """

    timeout_s: float = 10.0
    cpu_s: int | None = None
    memory_bytes: int = GiB
    file_bytes: int = 64 * MiB
    scratch_bytes: int = 128 * MiB
    max_output_bytes: int = MiB
    max_outputs: int = 500
    max_array_elements: int = 10_000
    max_line_points: int = 2_000
    max_table_rows: int = 500

    def __post_init__(self) -> None:
        if not (self.timeout_s > 0 and math.isfinite(self.timeout_s)):
            raise ValueError(
                f"timeout must be a positive number of seconds, not {self.timeout_s!r}"
            )

    @property
    def effective_cpu_s(self) -> int:
        """The CPU limit in whole seconds (RLIMIT_CPU takes integers)."""
        if self.cpu_s is not None:
            return max(1, int(self.cpu_s))
        return math.ceil(self.timeout_s) + 2

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cpu_s"] = self.effective_cpu_s
        return data


def human_bytes(n: int) -> str:
    """``1073741824`` -> ``"1 GiB"``; ``1536`` -> ``"1.5 KiB"``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            text = f"{size:.1f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
