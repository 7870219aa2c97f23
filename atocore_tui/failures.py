"""The store's failures as the faces see them.

A face maps a failure of the disk or the database file (full disk, read-only
folder, damaged file, a write lock held too long) to its own answer; it finds
the words here, since faces never import the store (import-linter contract (b)).
Light to import: the CLI needs it before it builds an Engine.
"""

from .store.db import DatabaseDamaged, StorageError, busy_error, storage_error

__all__ = ["DatabaseDamaged", "StorageError", "busy_error", "storage_error"]
