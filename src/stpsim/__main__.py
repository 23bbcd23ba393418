"""The ``stpsim`` command's entry point (also ``python -m stpsim``): the command line of
``stpsim.cli``, started so that Python's garbage collector leaves the imported code alone.

A command imports about 300 modules, which make some 45,000 objects that live until the process
ends. Every full collection during a run, and the collections at exit, would walk all of them
(about 12 ms each); ``stpsim run`` spent about 75 ms so. They are therefore imported with the
collector paused and then frozen (``gc.freeze``: moved where collections never look), as the
Python documentation suggests for objects that live as long as the process. Objects made by the
command itself are collected as usual. The imports leave a few hundred objects in reference
cycles (784 today, well under a megabyte): frozen with the rest, they stay for the process's
life, once, rather than cost a 28 ms collection before every command.
"""

from __future__ import annotations

import gc
import sys


def main() -> int:
    """Run the command line given in ``sys.argv``; returns its exit status."""
    gc.disable()
    try:
        from .cli import main as command_line
    finally:
        gc.freeze()
        gc.enable()
    return command_line()


if __name__ == "__main__":
    sys.exit(main())
