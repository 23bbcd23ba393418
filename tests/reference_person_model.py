"""A person-by-person implementation of the same model, for checking the cell engine.

Each person is a row (sex, age, segment, alive), each replicate a column. Every year each
person dies with their cell's probability, moves between frailty segments, ages a year, and
generates Poisson activity at their cell's rate. Vectorised over people and replicates with
numpy, but each person's fate is drawn individually, which is what the cell model replaces.
"""

from __future__ import annotations

import numpy as np


def expand(cells: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """People from integer cell counts (sex, age, segment): arrays of sex, age, segment."""
    counts = np.rint(cells).astype(int).ravel()
    idx = np.repeat(np.arange(counts.size), counts)
    s, a, g = np.unravel_index(idx, cells.shape)
    return s, a, g


def simulate(sex, age, seg, death, transition, rates, years, replicates, rng):
    """Activity totals by (replicate, year, setting) for a closed population."""
    n = sex.size
    age = np.repeat(age[:, None], replicates, axis=1)
    seg = np.repeat(seg[:, None], replicates, axis=1)
    sex = np.repeat(sex[:, None], replicates, axis=1)
    alive = np.ones((n, replicates), dtype=bool)
    out = np.zeros((replicates, years, rates.shape[0]))
    max_age = rates.shape[2] - 1
    for t in range(years):  # years are sequential
        lam = rates[:, sex, age, seg] * alive  # (setting, person, replicate)
        out[:, t, :] = rng.poisson(lam).sum(axis=1).T
        dies = rng.random((n, replicates)) < death[sex, age, seg]
        alive &= ~dies
        cum = np.cumsum(transition[sex, age, seg], axis=-1)  # (person, replicate, segment)
        u = rng.random((n, replicates))[..., None]
        seg = np.minimum((u > cum).sum(axis=-1), transition.shape[-1] - 1)
        age = np.minimum(age + 1, max_age)
    return out
