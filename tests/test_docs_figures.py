"""Docs from the tool: the figures in docs/finance.md are what scripts/finance_doc_figures.py
writes from the roll-up now (issue 19, item 11). A change to the model that moves them fails
here until the script is run and the doc committed with the change."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_finance_docs_figures_are_the_tools():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "finance_doc_figures.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
