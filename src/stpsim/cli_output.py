"""What every command of the ``stpsim`` command line shares: the console it prints to, Rich's
tables and texts (Rich imported only when something is first printed) and the two errors a
command raises (bad input: exit 2; failed work: exit 1). Its own module so the
commands in ``cli`` and ``cli_server`` both use it without importing each other."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

PIPED_WIDTH = 120


def _console_width() -> int | None:
    """None in a terminal: Rich sizes tables to it (and honours COLUMNS). Piped output has no
    terminal, and Rich's 80 columns would squeeze tables needlessly, so COLUMNS or 120."""
    if sys.stdout is not None and sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH


def console(**options: Any) -> Console:
    """A Rich console. Rich is imported here, on first use: it takes a sixtieth of a second to
    import, and a command that prints JSON never needs it."""
    from rich.console import Console

    return Console(**options)


def rich_table(*args: Any, **kwargs: Any) -> Table:
    """A Rich table (Rich imported on first use, as ``console``)."""
    from rich.table import Table

    return Table(*args, **kwargs)


def rich_text(*args: Any, **kwargs: Any) -> Text:
    """A Rich text."""
    from rich.text import Text

    return Text(*args, **kwargs)


def cell_len(s: str) -> int:
    """Columns ``s`` takes on a terminal (wide characters take two), as Rich counts them."""
    from rich.cells import cell_len

    return cell_len(s)


class _Console:
    """The console commands print to, made when something is first printed. No Rich markup:
    everything printed is text, so a name or plan containing "[/bold]" or "[52]" prints as typed
    instead of being read as a style (or crashing the print after the action)."""

    _made: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            type(self)._made = console(width=_console_width(), markup=False)
        return getattr(self._made, name)


out: Console = _Console()  # type: ignore[assignment] - a Console in all but when it is made

EXIT_USAGE = 2
EXIT_FAILED = 1


class UserError(Exception):
    """Bad input from the user: reported on one line, exit status 2."""


class RunFailed(Exception):
    """The input was fine but the work failed (a worker crashed, say): one line, exit status 1."""
