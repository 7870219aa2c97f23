"""The memory vocabulary and its checks: types, statuses, content, limits, actors.

Types, statuses, confidence and content are validated by the ``validate_*``
functions here and nowhere else; their errors name the field
(``ValidationError.field``: ``memory_type``, ``status``, ``content``,
``confidence``, ``limit``, ``actor``). Statuses and types are :class:`StrEnum`\\ s
whose values are what the database and every JSON answer carry; the checks
return plain strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from .. import validation
from ..errors import ValidationError
from ..store.models import Memory
from ..validation import confidence as validate_confidence


class MemoryType(StrEnum):
    IDENTITY = "identity"
    PREFERENCE = "preference"
    PROJECT = "project"
    KNOWLEDGE = "knowledge"
    EPISODIC = "episodic"
    ADAPTATION = "adaptation"


class MemoryStatus(StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    INVALID = "invalid"
    GRADUATED = "graduated"


MEMORY_TYPES: tuple[str, ...] = tuple(t.value for t in MemoryType)
MEMORY_STATUSES: tuple[str, ...] = tuple(s.value for s in MemoryStatus)
NEW_STATUSES: tuple[str, ...] = (MemoryStatus.ACTIVE.value, MemoryStatus.CANDIDATE.value)
"""A memory is born trusted (``active``) or waiting for review (``candidate``)."""
LIVE_STATUSES: tuple[str, ...] = (MemoryStatus.ACTIVE.value, MemoryStatus.CANDIDATE.value)
"""Memories that can still be duplicated, merged or superseded."""

MAX_CONTENT_CHARS = 10_000
"""A memory is a statement, not a document; longer text belongs in the vault."""
MAX_LIMIT = 500
MAX_NEIGHBOURS = 50

__all__ = ["LIVE_STATUSES", "MAX_CONTENT_CHARS", "MAX_LIMIT", "MAX_NEIGHBOURS", "MEMORY_STATUSES", "MEMORY_TYPES",
           "NEW_STATUSES", "MemoryStatus", "MemoryType", "new_status", "require_live", "require_status",
           "validate_actor", "validate_confidence", "validate_content", "validate_limit", "validate_memory_type",
           "validate_status"]


def validate_memory_type(value: Any) -> str:
    """The one check of a memory type; returns it normalised (lowercase)."""
    return validation.one_of(value, MEMORY_TYPES, "memory type", field="memory_type")


def validate_status(value: Any) -> str:
    """The one check of a memory status; returns it normalised (lowercase)."""
    return validation.one_of(value, MEMORY_STATUSES, "memory status", field="status")


def validate_content(value: Any) -> str:
    """The one check of a memory's content: non-blank text of bounded size, trimmed."""
    return validation.text(value, "memory content", max_chars=MAX_CONTENT_CHARS, field="content")


def validate_limit(value: Any, maximum: int = MAX_LIMIT) -> int:
    return validation.whole_number(value, "limit", 1, maximum, field="limit")


def validate_actor(value: Any) -> str:
    return validation.text(value, "actor", field="actor")


def new_status(value: Any) -> str:
    status = validate_status(value)
    if status not in NEW_STATUSES:
        raise ValidationError(f"a new memory is active or candidate, not {status}")
    return status


def require_status(row: Memory, allowed: Sequence[str], verb: str) -> None:
    """Refuse an action on a memory whose status does not allow it."""
    if row.status not in allowed:
        raise ValidationError(f"cannot {verb.replace('_', ' ')} memory {row.id}: it is {row.status}, "
                              f"not {' or '.join(allowed)}")


def require_live(row: Memory, verb: str) -> None:
    require_status(row, LIVE_STATUSES, verb)
