"""The engine's exceptions.

Every face (CLI, TUI, HTTP, MCP) turns these into its own idiom in one place:
a message and exit code, a notification, a 4xx status, an MCP error.
"""

from __future__ import annotations


class AtoCoreError(Exception):
    """Base class of every error the engine raises on purpose."""


class ValidationError(AtoCoreError):
    """Bad input: nothing was written. ``field`` names the input at fault when
    one does (a form shows the message beside it); ``None`` otherwise."""

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(AtoCoreError):
    """An unknown id, project, path or name."""


class Busy(AtoCoreError):
    """Another process holds a lock that this operation needs (e.g. ingestion)."""


class ConfigError(AtoCoreError):
    """An invalid configuration file or value; names the file and line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class ModelError(AtoCoreError):
    """The embedding model cannot be loaded."""
