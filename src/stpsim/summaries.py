"""Summaries of draws: the mean and the 10th, 50th and 90th percentiles, and which to quote.
A leaf (numpy only) that the record, the analyses and every shell's presenters share."""

from __future__ import annotations

import numpy as np

STATS = ("mean", "p10", "p50", "p90")


def summarise(x: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean and 10th/50th/90th percentiles over ``axis`` (the draws)."""
    p10, p50, p90 = percentiles(x, (10, 50, 90), axis)
    return {"mean": x.mean(axis=axis), "p10": p10, "p50": p50, "p90": p90}


def percentiles(x: np.ndarray, q: tuple[float, ...], axis: int = 0) -> np.ndarray:
    """``np.percentile(x, q, axis=axis)`` to the bit (its default, linear method), from one sort.
    numpy selects each pair of order statistics by partitioning on several positions, which over
    a run's draws takes about four times as long as sorting them; a run summarises a few hundred
    arrays. A slice with a NaN gives NaN, as numpy's does."""
    x = np.asarray(x)
    n = x.shape[axis] if x.ndim else 0
    if n == 0 or not np.issubdtype(x.dtype, np.floating):
        return np.percentile(x, list(q), axis=axis)
    s = np.moveaxis(np.sort(x, axis=axis), axis, 0)
    virtual = (n - 1) * (np.asarray(q) / 100)  # as numpy: q / 100, then (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    top = virtual >= n - 1
    previous[top], following[top] = -1, -1
    gamma = (virtual - previous).reshape((-1,) + (1,) * (s.ndim - 1))
    a, b = s[previous.astype(np.intp)], s[following.astype(np.intp)]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    nan = np.isnan(s[-1])
    if nan.any():
        out[:, nan] = np.nan
    return out


def headline(x: np.ndarray) -> tuple[float, str]:
    """The value to quote for draws ``x`` and which it is: the mean, or the median when the
    draws are so skewed that the mean falls outside their own 80% interval."""
    s = summarise(x)
    mean, p10, p90 = float(s["mean"]), float(s["p10"]), float(s["p90"])
    tol = 1e-6 * max(abs(p10), abs(p90), 1.0)  # rounding noise on a degenerate interval is not skew
    if p10 - tol <= mean <= p90 + tol:
        return mean, "mean"
    return float(s["p50"]), "median"
