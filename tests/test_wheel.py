"""The package as users install it: the built wheel, in a fresh virtual environment outside the
checkout, runs baseline, run, report and serve --demo (scripts/wheel_smoke.sh). It installs
every dependency afresh, so it runs on CI (CI=true) or when STPSIM_TEST_WHEEL=1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("STPSIM_TEST_WHEEL") != "1",
    reason="installs the wheel and its dependencies afresh: set STPSIM_TEST_WHEEL=1 (CI does)",
)


def test_the_installed_wheel_works_outside_the_repository(tmp_path):
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "wheel_smoke.sh"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "wheel-smoke: ok" in done.stderr
    assert (tmp_path / "elsewhere" / "gm.html").stat().st_size > 100_000
