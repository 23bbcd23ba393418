"""Scoring projections against what happened, and reweighting draws by their fit: pure numpy.

A projection is draws ``x`` (draw,) of one quantity in one year; the outturn is one number ``y``.
Draws may carry importance weights ``w`` (draw,), non-negative and summing to one; equal weights
give exactly the unweighted statistics (the 10th and 90th percentiles as ``np.percentile``'s
linear interpolation, the mean as ``x.mean()``).
"""

from __future__ import annotations

import numpy as np


def flat(n: int) -> np.ndarray:
    """Equal weights over ``n`` draws."""
    return np.full(n, 1.0 / n)


def positions(ws: np.ndarray) -> np.ndarray:
    """Where sorted draws with weights ``ws`` (..., draw) sit for interpolating quantiles: the
    cumulative weight before each one, scaled so the first sits at 0 and the last at 1 (with
    equal weights (i - 1)/(n - 1), numpy's linear rule); all nought when every weight is on the
    first draw."""
    ws = np.atleast_2d(ws)
    before = np.concatenate([np.zeros((ws.shape[0], 1)), np.cumsum(ws, axis=1)[:, :-1]], axis=1)
    span = before[:, -1:]
    return np.divide(before, span, out=np.zeros_like(before), where=span > 0)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q: np.ndarray | list[float]) -> np.ndarray:
    """Quantiles ``q`` (fractions) of draws ``x`` (draw,) weighted by ``w`` (``positions``)."""
    order = np.argsort(x, kind="stable")
    xs, at = x[order], positions(w[order])[0]
    if at[-1] <= 0:  # every weight on the first draw in order: it is every quantile
        return np.full(len(np.atleast_1d(q)), xs[0])
    return np.interp(np.asarray(q, dtype=float), at, xs)


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.dot(w, x))


def crps(x: np.ndarray, w: np.ndarray, y: float) -> float:
    """The continuous ranked probability score of the weighted draws against outturn ``y``, in
    ``y``'s units (lower is better; a point forecast's CRPS is its absolute error):
    E|X - y| - E|X - X'|/2, the second term by the sorted-draws identity
    sum_ij w_i w_j |x_i - x_j| = 2 sum_i w_i x_i (2 W_i + w_i - 1), W_i the weight below draw i."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    below = np.concatenate([[0.0], np.cumsum(ws)[:-1]])
    spread = 2.0 * float(np.sum(ws * xs * (2.0 * below + ws - 1.0)))
    return float(np.dot(ws, np.abs(xs - y))) - 0.5 * spread


def score(x: np.ndarray, w: np.ndarray, y: float) -> dict[str, float | bool]:
    """One projection against its outturn: the weighted mean and 80% interval, whether the
    outturn fell inside it, the error of the mean (% of the outturn) and the CRPS."""
    p10, p90 = weighted_quantiles(x, w, [0.1, 0.9])
    mean = weighted_mean(x, w)
    return {
        "mean": mean,
        "p10": float(p10),
        "p90": float(p90),
        "inside": bool(p10 <= y <= p90),
        "error_pct": 100.0 * (mean - y) / abs(y),
        "crps": crps(x, w, y),
    }


def summary(rows: list[dict]) -> dict[str, float | int]:
    """A measure's record over its scored years: the share of outturns inside the 80% interval,
    the mean absolute percentage error of the mean, its bias (mean signed error, %) and the mean
    CRPS as a percentage of the outturn."""
    n = len(rows)
    errors = np.array([r["error_pct"] for r in rows], dtype=float)
    crps_pct = np.array([100.0 * r["crps"] / abs(r["actual"]) for r in rows], dtype=float)
    return {
        "years": n,
        "inside": sum(bool(r["inside"]) for r in rows),
        "coverage": sum(bool(r["inside"]) for r in rows) / n,
        "mape": float(np.abs(errors).mean()),
        "bias_pct": float(errors.mean()),
        "crps_pct": float(crps_pct.mean()),
    }


def log_normal_likelihood(x: np.ndarray, y: float, sigma: float) -> np.ndarray:
    """The log-likelihood of outturn ``y`` for each draw's projection ``x`` (draw,): the outturn
    is the projection times a log-normal error of standard deviation ``sigma`` (a share), up to
    a constant: -((ln y - ln x) / sigma)^2 / 2."""
    return -0.5 * ((np.log(y) - np.log(x)) / sigma) ** 2


def importance_weights(loglik: np.ndarray) -> np.ndarray:
    """Normalised importance weights from each draw's log-likelihood (prior draws are equally
    likely, so the posterior weight is the likelihood), computed stably (max subtracted)."""
    z = np.exp(loglik - loglik.max())
    return z / z.sum()


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective number of draws, 1 / sum(w^2): n for equal weights, 1 when one draw holds
    all the weight."""
    return float(1.0 / np.sum(np.square(w)))


def resample(w: np.ndarray, n: int | None = None) -> np.ndarray:
    """Systematic resampling: the indices of ``n`` draws (default len(w)), each draw repeated in
    proportion to its weight, deterministic (the comb's offset is a half step), in index order.
    A calibrated run runs these draws' parameters, so every summary of it is the weighted one."""
    n = len(w) if n is None else n
    comb = (np.arange(n) + 0.5) / n
    cum = np.cumsum(w)
    cum[-1] = 1.0  # rounding must not leave the last tooth unmatched
    return np.searchsorted(cum, comb, side="left")
