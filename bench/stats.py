"""Percentiles and round summaries (pure)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (NumPy's default method); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """One figure over rounds: the median is reported, min-max is the spread."""

    median: float
    low: float
    high: float
    rounds: tuple[float, ...]

    @classmethod
    def of(cls, rounds: Sequence[float]) -> Summary:
        finite = [v for v in rounds if not math.isnan(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan, tuple(rounds))
        return cls(statistics.median(finite), min(finite), max(finite), tuple(rounds))

    @classmethod
    def single(cls, value: float) -> Summary:
        return cls(value, value, value, (value,))


def paired_differences(minuend: Sequence[float], subtrahend: Sequence[float]) -> list[float]:
    """Round-by-round differences (gateway round i minus direct round i)."""
    return [a - b for a, b in zip(minuend, subtrahend, strict=True)]
