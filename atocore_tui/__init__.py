"""AtoCore TUI: a local-first context engine with a terminal workstation."""

__version__ = "0.1.0"
