"""Reports: a self-contained HTML story (board or public) and an analyst's workbook."""

from __future__ import annotations

from pathlib import Path

from ..results import atomic_files

FORMATS = ("html", "xlsx")
# The format each file name suffix means, so `-o x.xlsx` writes a workbook without --format.
SUFFIXES = {".html": "html", ".htm": "html", ".xlsx": "xlsx"}


def write(
    results, path: str | Path, audience: str = "board", fmt: str = "html", other=None, national=None
) -> Path:
    """Write the report for ``results`` (and ``other``, to compare two options) to ``path``.

    The report is written beside ``path`` and renamed into place, so a failure part way leaves
    no partial report (and an earlier report at ``path`` untouched)."""
    path = Path(path)
    with atomic_files([path]) as (tmp,):
        if fmt == "xlsx":
            from . import workbook

            workbook.write(results, tmp)
        else:
            from .html import render

            tmp.write_text(render(results, audience, other, national), encoding="utf-8")
    return path
