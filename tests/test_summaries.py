"""Skewed draws are told by their median: the mean of a few large draws can lie outside the
80% interval of the draws themselves, and quoting it would mislead (review finding 6)."""

import numpy as np

from stpsim.cli import _fmt_summary
from stpsim.summaries import headline


def test_the_mean_is_quoted_when_it_lies_inside_the_interval():
    x = np.arange(1.0, 11.0)  # mean 5.5, p10 1.9, p90 9.1
    assert headline(x) == (5.5, "mean")


def test_the_median_is_quoted_when_skew_puts_the_mean_outside_the_interval():
    # Ninety-five draws of 0 and five of 100: mean 5, p10 = p50 = p90 = 0.
    x = np.array([0.0] * 95 + [100.0] * 5)
    assert headline(x) == (0.0, "median")
    assert _fmt_summary({"mean": 5.0, "p10": 0.0, "p50": 0.0, "p90": 0.0}) == "0 median (0 to 0)"
    assert _fmt_summary({"mean": 5.0, "p10": 1.0, "p50": 4.0, "p90": 9.0}) == "5 (1 to 9)"


def test_rounding_noise_on_a_degenerate_interval_is_not_called_skew():
    # Every draw zero but one of 1e-12: mean 1e-14 "outside" [0, 0] only by rounding.
    x = np.array([0.0] * 99 + [1e-12])
    assert headline(x)[1] == "mean"
