"""Health segments: electronic-frailty-index categories (fit, mild, moderate, severe).

Prevalence by age, the yearly transition matrices between segments and the segment-specific
death rates, all derived from the frailty evidence in ``frailty_multimorbidity.csv`` plus the
logged assumptions. The arrays are national (the same for every footprint) and sex-specific
where mortality differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import assumptions
from .axes import AGES, SEGMENTS, SEXES
from .cache import persistent
from .demography import death_rates, england_base
from .reference import table

_CATEGORIES = ("mild", "moderate", "severe")


def _hazard_ratios(measure: str) -> np.ndarray:
    """Published eFI hazard ratios vs fit, ordered (fit=1, mild, moderate, severe)."""
    df = table("frailty_multimorbidity")
    rows = df[df["measure"] == measure]
    out = [1.0]
    for cat in _CATEGORIES:
        hit = rows[rows["note"].str.startswith(cat)]
        if len(hit) != 1:
            raise ValueError(f"frailty_multimorbidity.csv: expected one {measure} row for {cat}")
        out.append(float(hit.iloc[0]["value"]))
    return np.array(out)


def mortality_hazard_ratios() -> np.ndarray:
    return _hazard_ratios("eFI_adjusted_HR_1yr_mortality")


def hospitalisation_hazard_ratios() -> np.ndarray:
    return _hazard_ratios("eFI_adjusted_HR_1yr_hospitalisation")


def _frailty_fact(measure: str, period: str, band: str) -> float:
    df = table("frailty_multimorbidity")
    hit = df[(df["measure"] == measure) & (df["period"] == period) & (df["age_band"] == band)]
    if len(hit) != 1:
        raise ValueError(f"frailty_multimorbidity.csv: no single row {measure} {period} {band}")
    return float(hit.iloc[0]["value"])


def logistic_prevalence(centre: float, width: float, min_age: int) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-(AGES - centre) / width))
    return np.where(AGES >= min_age, p, 0.0)


def _bisect(f, lo: float, hi: float, iters: int = 80) -> float:
    """Root of a monotone f on [lo, hi] (f(lo) and f(hi) of opposite sign)."""
    flo = f(lo)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)


@persistent
def any_frailty_prevalence() -> np.ndarray:
    """Prevalence of any frailty by single year of age (logistic, fitted to two published bands)."""
    min_age = int(assumptions.value("frailty_min_age"))
    assumptions.get("frailty_prevalence_logistic")
    period = "2006-2017 cohort"
    target_young = _frailty_fact("frailty_prevalence_eFI_any_frailty", period, "50-64") / 100
    target_old = _frailty_fact("frailty_prevalence_eFI_any_frailty", period, "65+") / 100
    w = england_base().sum(axis=0)
    young, old = (AGES >= 50) & (AGES <= 64), AGES >= 65

    def centre_for(width: float) -> float:
        return _bisect(
            lambda c: np.average(logistic_prevalence(c, width, min_age)[old], weights=w[old]) - target_old,
            40.0,
            130.0,
        )

    def young_gap(width: float) -> float:
        p = logistic_prevalence(centre_for(width), width, min_age)
        return np.average(p[young], weights=w[young]) - target_young

    width = _bisect(young_gap, 1.0, 40.0)
    return logistic_prevalence(centre_for(width), width, min_age)


def severity_split() -> np.ndarray:
    split = np.asarray(assumptions.value("frailty_severity_split"), dtype=float)
    return split / split.sum()


@persistent
def base_segment_shares() -> np.ndarray:
    """Share of each single year of age in each segment in the base year, shape (age, segment)."""
    p = any_frailty_prevalence()
    return np.column_stack([1.0 - p, p[:, None] * severity_split()[None, :]])


def segment_death_probability(shares: np.ndarray | None = None) -> np.ndarray:
    """Annual death probability by (sex, age, segment). The published eFI mortality hazard ratios
    scale each age's rate, normalised so the base-year mix reproduces the age-sex death rate."""
    shares = base_segment_shares() if shares is None else shares
    hr = mortality_hazard_ratios()
    norm = shares @ hr  # (age,)
    m = death_rates()[:, :, None] * hr[None, None, :] / norm[None, :, None]
    return 1.0 - np.exp(-m)


def onset_probability() -> np.ndarray:
    """Annual probability a fit person becomes frail, by age (Walsh et al. rates per 1,000 py)."""
    rate = np.zeros(AGES.shape)
    for band, lo, hi in (("50-64", 50, 64), ("65-74", 65, 74), ("75-84", 75, 84), ("85+", 85, AGES[-1])):
        per_1000 = _frailty_fact("frailty_transition_rate_fit_to_any_frailty", "2006-2017", band)
        rate[(AGES >= lo) & (AGES <= hi)] = per_1000 / 1000.0
    rate[AGES < int(assumptions.value("frailty_min_age"))] = 0.0
    return 1.0 - np.exp(-rate)


@dataclass(frozen=True)
class SegmentDynamics:
    death: np.ndarray  # (sex, age, segment) annual death probability
    transition: np.ndarray  # (sex, age, from_segment, to_segment), rows sum to 1
    onset: np.ndarray  # (sex, age) fit -> frail probability used
    recovery: np.ndarray  # (sex, age) frail -> fit probability solved for stationarity


@persistent
def dynamics() -> SegmentDynamics:
    """Transitions that keep the base-year age-specific prevalence stationary along cohorts
    (assumption ``frailty_recovery_stationary``): onset is published, recovery is solved."""
    assumptions.get("frailty_recovery_stationary")
    p = any_frailty_prevalence()
    split = severity_split()
    death = segment_death_probability()
    survive_fit = 1.0 - death[:, :, 0]
    survive_frail = 1.0 - (death[:, :, 1:] @ split)
    p_now, p_next = p[None, :], np.append(p[1:], p[-1])[None, :]
    onset = np.tile(onset_probability(), (len(SEXES), 1))
    total_next = p_now * survive_frail + (1 - p_now) * survive_fit
    # Where nobody is frail yet (the age before frailty starts), onset alone sets next year's
    # prevalence.
    starting = (p_now == 0) & (p_next > 0)
    onset = np.where(starting, p_next * total_next / survive_fit, onset)
    with np.errstate(divide="ignore", invalid="ignore"):
        recovery = 1.0 - (p_next * total_next - (1 - p_now) * survive_fit * onset) / (p_now * survive_frail)
    recovery = np.clip(np.nan_to_num(recovery, nan=0.0), 0.0, 1.0)
    n_seg = len(SEGMENTS)
    t = np.zeros((len(SEXES), len(AGES), n_seg, n_seg))
    t[:, :, 0, 0] = 1.0 - onset
    t[:, :, 0, 1:] = onset[:, :, None] * split
    t[:, :, 1:, 0] = recovery[:, :, None]
    t[:, :, 1:, 1:] = ((1.0 - recovery)[:, :, None] * split)[:, :, None, :]
    for arr in (death, t, onset, recovery):
        arr.flags.writeable = False
    return SegmentDynamics(death=death, transition=t, onset=onset, recovery=recovery)
