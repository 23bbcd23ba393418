"""Summaries of draws: the mean and the 10th, 50th and 90th percentiles, and which to quote.
A leaf (numpy only) that the record, the analyses and every shell's presenters share."""

from __future__ import annotations

import numpy as np

STATS = ("mean", "p10", "p50", "p90")


def summarise(x: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean and 10th/50th/90th percentiles over ``axis`` (the draws)."""
    p10, p50, p90 = np.percentile(x, [10, 50, 90], axis=axis)
    return {"mean": x.mean(axis=axis), "p10": p10, "p50": p50, "p90": p90}


def headline(x: np.ndarray) -> tuple[float, str]:
    """The value to quote for draws ``x`` and which it is: the mean, or the median when the
    draws are so skewed that the mean falls outside their own 80% interval."""
    s = summarise(x)
    mean, p10, p90 = float(s["mean"]), float(s["p10"]), float(s["p90"])
    tol = 1e-6 * max(abs(p10), abs(p90), 1.0)  # rounding noise on a degenerate interval is not skew
    if p10 - tol <= mean <= p90 + tol:
        return mean, "mean"
    return float(s["p50"]), "median"
