"""Finding a row by its id or a unique prefix of it (people paste short ids)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from peewee import Model

from ..errors import NotFound, ValidationError
from .models import TIMESTAMP_FORMAT, Interaction

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


def find_interaction(interaction_id: Any) -> Interaction:
    """The interaction with this id or unique id prefix; NotFound otherwise."""
    return by_id_or_prefix(Interaction, interaction_id, "interaction")


_SINCE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def normalise_since(since: str | datetime | date | None) -> str | None:
    """A ``since`` bound in the store's timestamp shape (UTC), or None.

    Accepts 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS' and ISO 'YYYY-MM-DDTHH:MM:SS'
    with an optional 'Z' or offset (converted to UTC); naive times are UTC.
    Fractions of a second are dropped, since stored times have none.
    """
    if since is None or (isinstance(since, str) and not since.strip()):
        return None
    if isinstance(since, datetime):
        moment = since
    elif isinstance(since, date):
        moment = datetime(since.year, since.month, since.day)
    elif isinstance(since, str) and _SINCE.fullmatch(since.strip()):
        try:
            moment = datetime.fromisoformat(since.strip())
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None:
        raise ValidationError(f"since must be a date or time like 2026-04-22, 2026-04-22 13:05:00 or "
                              f"2026-04-22T13:05:00Z, got {since!r}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(TIMESTAMP_FORMAT)
