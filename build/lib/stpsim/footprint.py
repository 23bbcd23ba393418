"""England's 44 STP footprints (ONS April 2017), the default geography: a thin view of
:mod:`stpsim.geography`, where footprints of any geography are built from small areas."""

from __future__ import annotations

from .geography import Footprint, Organisation, UnknownFootprint, find, preset, suggest


def all_footprints() -> tuple[Footprint, ...]:
    return preset("stp2017")


def codes() -> list[str]:
    return [f.code for f in all_footprints()]


__all__ = ["Footprint", "Organisation", "UnknownFootprint", "all_footprints", "codes", "find", "suggest"]
