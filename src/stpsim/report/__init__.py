"""Reports: a self-contained HTML story (board or public) and an analyst's workbook."""

from __future__ import annotations

from pathlib import Path

from ..results import atomic_files

FORMATS = ("html", "xlsx")
# The format each file name suffix means, so `-o x.xlsx` writes a workbook without --format.
SUFFIXES = {".html": "html", ".htm": "html", ".xlsx": "xlsx"}


def write(
    results,
    path: str | Path,
    audience: str = "board",
    fmt: str = "html",
    other=None,
    national=None,
    appendix_href: str | None = None,
    track_record: dict | None = None,
    proposal: dict | None = None,
) -> Path:
    """Write the report for ``results`` (and ``other``, to compare two options) to ``path``.
    The public HTML version also writes its technical appendix beside it
    (``report-appendix.html``), which the main page links to (or to ``appendix_href``).

    Each file is written beside its target and renamed into place, so a failure part way leaves
    no partial report (and an earlier report at ``path`` untouched)."""
    path = Path(path)
    if fmt == "xlsx":
        with atomic_files([path]) as (tmp,):
            from . import workbook

            workbook.write(results, tmp)
        return path
    from .html import appendix_name, render_appendix, render_bytes

    if audience != "public":
        with atomic_files([path]) as (tmp,):
            _write_chunks(tmp, render_bytes(results, audience, other, national, None, track_record, proposal))
        return path
    extra = path.with_name(appendix_name(path))
    with atomic_files([path, extra]) as (tmp, tmp_extra):
        href = appendix_href or extra.name
        _write_chunks(tmp, render_bytes(results, audience, other, national, href))
        tmp_extra.write_text(render_appendix(results, other), encoding="utf-8")
    return path


def _write_chunks(path: Path, chunks: list[bytes]) -> None:
    """Write the chunks as they are: the 4.8 MB of plotly.js is never copied into one string."""
    with path.open("wb") as f:
        f.writelines(chunks)
