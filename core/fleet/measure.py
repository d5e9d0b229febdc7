"""Measurement: size and latency of the original model against its ONNX variants.

Latency is the median of repeated calls, one thread each, after a warm-up call: for one
row (what a device answers per request) and for a batch of 1,000 rows (throughput).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

BATCH_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Measurement:
    """One variant's size and median latencies."""

    variant: str
    size_bytes: int
    single_row_ms: float
    batch_ms: float
    batch_rows: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "variant": self.variant,
            "size_bytes": self.size_bytes,
            "single_row_ms": self.single_row_ms,
            "batch_ms": self.batch_ms,
            "batch_rows": self.batch_rows,
        }


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    """Median wall time of `call` in milliseconds, after one warm-up call."""
    call()
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(
    variant: str,
    size_bytes: int,
    single: Callable[[], Any],
    batch: Callable[[], Any],
    *,
    batch_rows: int = BATCH_ROWS,
    repeats: int = 50,
) -> Measurement:
    """Time one variant: `single` answers one row, `batch` answers `batch_rows` rows."""
    return Measurement(
        variant,
        size_bytes,
        median_ms(single, repeats),
        median_ms(batch, max(3, repeats // 10)),
        batch_rows,
    )


def table(measurements: Sequence[Measurement]) -> pd.DataFrame:
    """Columns: variant, size_kb, single_row_ms, batch_ms, rows_per_s, smaller_x, faster_x.

    `smaller_x` and `faster_x` compare each variant with the first (the original).
    """
    if not measurements:
        return pd.DataFrame(
            columns=[
                "variant",
                "size_kb",
                "single_row_ms",
                "batch_ms",
                "rows_per_s",
                "smaller_x",
                "faster_x",
            ]
        )
    base = measurements[0]
    return pd.DataFrame(
        {
            "variant": [m.variant for m in measurements],
            "size_kb": [m.size_bytes / 1024 for m in measurements],
            "single_row_ms": [m.single_row_ms for m in measurements],
            "batch_ms": [m.batch_ms for m in measurements],
            "rows_per_s": [
                m.batch_rows / (m.batch_ms / 1000) if m.batch_ms else None for m in measurements
            ],
            "smaller_x": [
                base.size_bytes / m.size_bytes if m.size_bytes else None for m in measurements
            ],
            "faster_x": [
                base.single_row_ms / m.single_row_ms if m.single_row_ms else None
                for m in measurements
            ],
        }
    )
