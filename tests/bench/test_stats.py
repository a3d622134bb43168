from __future__ import annotations

import math

import pytest

from bench.stats import Summary, paired_differences, percentile


def test_percentile_interpolates_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_summary_reports_median_and_spread_ignoring_missing_rounds() -> None:
    summary = Summary.of([3.0, math.nan, 1.0, 10.0])
    assert (summary.median, summary.low, summary.high) == (3.0, 1.0, 10.0)
    assert len(summary.rounds) == 4


def test_summary_of_no_values_is_nan() -> None:
    assert math.isnan(Summary.of([math.nan]).median)


def test_paired_differences_are_round_by_round() -> None:
    assert paired_differences([5.0, 7.0], [1.0, 2.0]) == [4.0, 5.0]
    with pytest.raises(ValueError):
        paired_differences([1.0], [1.0, 2.0])
