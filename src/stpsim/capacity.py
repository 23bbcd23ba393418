"""Capacity needed: beds at a target occupancy, and sessions of each kind of staff, from a run's
activity. A core step: the engine and the roll-up call it with the run's parameter draws."""

from __future__ import annotations

import numpy as np

from .axes import ALL_SETTINGS
from .parameters import ParameterDraws

CAPACITY = {
    # measure: (settings summed, assumption giving units per session or occupancy)
    "beds": (("emergency_bed_days", "elective_bed_days"), "bed_occupancy"),
    "gp_sessions": (("gp_consultations",), "gp_consultations_per_session"),
    "practice_nurse_sessions": (
        ("practice_nurse_consultations",),
        "practice_nurse_consultations_per_session",
    ),
    "community_nursing_sessions": (("community_nursing_contacts",), "community_nursing_contacts_per_session"),
    "physiotherapy_sessions": (("physiotherapy_contacts",), "physiotherapy_contacts_per_session"),
    "geriatrician_sessions": (("geriatrician_hours",), "geriatrician_hours_per_session"),
}
OCCUPANCY = "capacity/bed_occupancy"  # the one bed-occupancy parameter: capacity, finance, beds test


def capacity(activity: np.ndarray, params: ParameterDraws) -> dict[str, np.ndarray]:
    """Capacity needed by (draw, year, footprint) from activity (draw, year, footprint, setting)."""
    out = {}
    for name, (settings, param) in CAPACITY.items():
        units = activity[..., [ALL_SETTINGS.index(s) for s in settings]].sum(axis=-1)
        per = params[f"capacity/{param}"][:, None, None]
        out[name] = units / 365.0 / per if name == "beds" else units / per
    return out
