"""stpsim's version: a leaf every module may import (the package root imports the API above it).

The same as pyproject.toml's version (a test checks); a constant, because reading the installed
metadata costs every command 30 ms at start-up."""

__version__ = "0.1.0"
