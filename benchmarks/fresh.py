"""What the benchmarks share: a child script run in fresh processes, its JSON timings' medians."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys


def medians(child: str, argv: list[str], repeats: int) -> dict[str, float]:
    """Run ``child`` (a Python script printing one JSON object of numbers) ``repeats`` times, each
    in a fresh interpreter, and return each number's median, to one decimal."""
    command = [sys.executable, "-c", child, *argv]
    runs = [
        json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        for _ in range(repeats)
    ]
    return {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}


def arguments(doc: str):
    """The options every benchmark takes: --repeats, --draws and --json."""
    import argparse

    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print one JSON document of the medians")
    return ap


def show(med: dict[str, float], as_json: bool, heading: str) -> None:
    """The medians as one JSON document, or a heading and one line each."""
    if as_json:
        print(json.dumps(med, indent=2))
        return
    print(heading)
    for k, v in med.items():
        print(f"  {k:<26} {v:10.2f}")
