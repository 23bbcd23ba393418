"""Make the dashboard's small copy of the 44 STP (February 2017) boundaries.

Reads ../shared/reference/geo/stp17_boundaries.geojson (ONS, OGL v3.0; see SOURCES.md there) and
writes src/stpsim/web/data/stp17_boundaries.geojson. The map is at most 960 px wide, where one
pixel is about 0.01 degree, so the coordinates are snapped to a 0.002 degree grid (about 150-220 m)
and the points this makes repeat are dropped. Snapping, unlike Douglas-Peucker run on each
polygon alone, moves a border that two footprints share the same way for both, so no slivers or
gaps open between neighbours. Rings left with fewer than three distinct points (small islands
smaller than the grid) are dropped, but every footprint keeps its largest part.

    .venv/bin/python scripts/simplify_stp_boundaries.py [SOURCE] [TARGET]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "reference" / "geo" / "stp17_boundaries.geojson"
TARGET = ROOT / "src" / "stpsim" / "web" / "data" / "stp17_boundaries.geojson"
GRID = 0.002  # degrees


def snap(ring: list[list[float]]) -> list[list[float]]:
    """The ring on the grid with repeated points dropped; closed (first point = last)."""
    out: list[list[float]] = []
    for x, y in ring:
        p = [round(round(x / GRID) * GRID, 3), round(round(y / GRID) * GRID, 3)]
        if not out or p != out[-1]:
            out.append(p)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out


def area(ring: list[list[float]]) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))) / 2


def polygons(geometry: dict) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


def simplify(feature: dict) -> dict:
    parts = []
    for polygon in polygons(feature["geometry"]):
        rings = [snap(r) for r in polygon]
        if len(rings[0]) < 4:  # the outer ring vanished into one grid cell
            continue
        parts.append([rings[0]] + [r for r in rings[1:] if len(r) >= 4])
    if not parts:  # never lose a footprint: keep its largest part, snapped
        largest = max(polygons(feature["geometry"]), key=lambda p: area(p[0]))
        parts = [[snap(largest[0])]]
    geometry = (
        {"type": "Polygon", "coordinates": parts[0]}
        if len(parts) == 1
        else {"type": "MultiPolygon", "coordinates": parts}
    )
    return {"type": "Feature", "properties": feature["properties"], "geometry": geometry}


def main(source: Path = SOURCE, target: Path = TARGET) -> None:
    data = json.loads(source.read_text(encoding="utf-8"))
    out = {"type": "FeatureCollection", "features": [simplify(f) for f in data["features"]]}
    codes = [f["properties"]["stp17cd"] for f in out["features"]]
    assert len(set(codes)) == 44, "the boundaries must hold the 44 footprints"
    target.write_text(json.dumps(out, separators=(",", ":")), encoding="utf-8")
    points = sum(len(r) for f in out["features"] for p in polygons(f["geometry"]) for r in p)
    before = sum(len(r) for f in data["features"] for p in polygons(f["geometry"]) for r in p)
    print(f"{target}: {target.stat().st_size:,} bytes, {points:,} points (from {before:,})")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:3]))
