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
