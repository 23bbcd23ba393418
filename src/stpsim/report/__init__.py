"""Reports: a self-contained HTML story (board or public) and an analyst's workbook."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("html", "xlsx")


def write(
    results, path: str | Path, audience: str = "board", fmt: str = "html", other=None, national=None
) -> Path:
    """Write the report for ``results`` (and ``other``, to compare two options) to ``path``."""
    path = Path(path)
    if fmt == "xlsx":
        from . import workbook

        return workbook.write(results, path)
    from .html import render

    path.write_text(render(results, audience, other, national), encoding="utf-8")
    return path
