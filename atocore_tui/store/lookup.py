"""Finding a row by its id or a unique prefix of it (people paste short ids)."""

from __future__ import annotations

from typing import Any, TypeVar

from peewee import Model

from ..errors import NotFound, ValidationError

ID_PREFIX_MIN = 6
"""Characters a prefix needs before it is looked up (shorter ones would be ambiguous)."""

MAX_ID_CHARS = 128
"""Longer than any id the store makes (32 hex characters): refused before any query."""

M = TypeVar("M", bound=Model)


def by_id_or_prefix(model: type[M], value: Any, label: str) -> M:
    """The row whose id is ``value`` or starts with it; NotFound or (ambiguous) ValidationError."""
    wanted = value.strip().lower() if isinstance(value, str) else ""
    if len(wanted) > MAX_ID_CHARS:  # a 50,000-character "prefix" made SQLite's LIKE fail (issue 11, item 7)
        raise ValidationError(f"{label} id is too long ({len(wanted):,} characters; ids have at most "
                              f"{MAX_ID_CHARS})")
    row = model.get_or_none(model.id == wanted) if wanted else None
    if row is None and len(wanted) >= ID_PREFIX_MIN:
        matches = list(model.select().where(model.id.startswith(wanted)).limit(2))
        if len(matches) > 1:
            raise ValidationError(f"{label} id prefix {value!r} is ambiguous: give more characters")
        row = matches[0] if matches else None
    if row is None:
        raise NotFound(f"unknown {label}: {value}")
    return row
