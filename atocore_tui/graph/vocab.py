"""The graph's vocabulary: entity types, relationship types, statuses, references.

This is the one place where they are listed and validated; every writer of the
graph (service, graduation, sample loader, faces) calls these functions so that
an unknown type or status is rejected the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import ValidationError

ENTITY_TYPES: tuple[str, ...] = (
    "system", "subsystem", "component", "interface", "requirement", "constraint", "decision",
    "material", "parameter", "analysis", "result", "validation_claim", "test", "risk", "vendor",
)

RELATIONSHIP_TYPES: tuple[str, ...] = (
    "PART_OF", "USES_MATERIAL", "SATISFIES", "CONSTRAINED_BY", "DEPENDS_ON", "AFFECTS",
    "BASED_ON", "SUPPORTS", "VALIDATES", "SUPERSEDES", "DERIVED_FROM",
)

CANDIDATE, ACTIVE, SUPERSEDED = "candidate", "active", "superseded"
ENTITY_STATUSES: tuple[str, ...] = (CANDIDATE, ACTIVE, SUPERSEDED)

CONFLICT_STATUSES: tuple[str, ...] = ("open", "resolved", "dismissed")
RESOLUTIONS: tuple[str, ...] = ("dismiss", "supersede_others", "no_action")

REF_KINDS: tuple[str, ...] = ("memory", "chunk", "interaction", "note")
"""``note:<document path>`` names a vault note by its path; chunk ids change
when a note is re-chunked, so hand-written provenance points at the note."""

# Impact: a change to one entity reaches others along these edges. "in" means
# the change travels against the arrow (A DEPENDS_ON B: a change of B reaches
# A); "out" means along it (A PART_OF B: a change of A reaches B).
IMPACT_EDGES: dict[str, str] = {
    "DEPENDS_ON": "in",
    "USES_MATERIAL": "in",
    "CONSTRAINED_BY": "in",
    "BASED_ON": "in",
    "DERIVED_FROM": "in",
    "AFFECTS": "out",
    "PART_OF": "out",
    "SATISFIES": "out",
    "SUPPORTS": "out",
    "VALIDATES": "out",
}

# Evidence: what supports an entity. "in" = the supporter is the source of the
# edge (X SUPPORTS E); "out" = the supporter is the target (E BASED_ON X).
EVIDENCE_EDGES: dict[str, str] = {
    "SUPPORTS": "in",
    "VALIDATES": "in",
    "BASED_ON": "out",
    "DERIVED_FROM": "out",
}

SUPPORTING_TYPES: tuple[str, ...] = ("result", "analysis", "test")
"""Entity types whose SUPPORTS/VALIDATES edge makes a validation claim supported."""
SUPPORT_RELATIONSHIPS: tuple[str, ...] = ("SUPPORTS", "VALIDATES")

LOW_CONFIDENCE = 0.5
"""A basis below this confidence does not make a decision safe."""

# Endpoint rules for the few relationship types whose meaning fixes a type.
TARGET_TYPES: dict[str, tuple[str, ...]] = {
    "USES_MATERIAL": ("material",),
    "SATISFIES": ("requirement", "constraint"),
    "CONSTRAINED_BY": ("constraint", "requirement"),
}

MAX_NAME = 200
_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def entity_type(value) -> str:
    text = str(value or "").strip().lower()
    if text not in ENTITY_TYPES:
        raise ValidationError(f"unknown entity type {value!r}: use one of {', '.join(ENTITY_TYPES)}")
    return text


def relationship_type(value) -> str:
    text = str(value or "").strip().upper()
    if text not in RELATIONSHIP_TYPES:
        raise ValidationError(
            f"unknown relationship type {value!r}: use one of {', '.join(RELATIONSHIP_TYPES)}")
    return text


def entity_status(value) -> str:
    text = str(value or "").strip().lower()
    if text not in ENTITY_STATUSES:
        raise ValidationError(f"unknown entity status {value!r}: use one of {', '.join(ENTITY_STATUSES)}")
    return text


def conflict_status(value) -> str:
    text = str(value or "").strip().lower()
    if text not in CONFLICT_STATUSES:
        raise ValidationError(
            f"unknown conflict status {value!r}: use one of {', '.join(CONFLICT_STATUSES)}")
    return text


def resolution(value) -> str:
    text = str(value or "").strip().lower().replace("-", "_")
    if text not in RESOLUTIONS:
        raise ValidationError(f"unknown resolution {value!r}: use one of {', '.join(RESOLUTIONS)}")
    return text


def name(value, what: str = "name") -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError(f"{what} must not be blank")
    if len(text) > MAX_NAME:
        raise ValidationError(f"{what} is longer than {MAX_NAME} characters")
    return text


def description(value) -> str:
    return str(value or "").strip()


def source_refs(values: Iterable[str] | str | None) -> list[str]:
    """``kind:value`` references, kinds from :data:`REF_KINDS`; order kept, duplicates dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    refs: list[str] = []
    for raw in values:
        text = str(raw or "").strip()
        kind, _, rest = text.partition(":")
        if kind not in REF_KINDS or not rest.strip():
            raise ValidationError(
                f"bad source reference {raw!r}: use kind:value with kind one of {', '.join(REF_KINDS)}")
        if text not in refs:
            refs.append(text)
    return refs


def entity_id(value) -> str:
    """An explicit id (the sample graph uses readable ones): lowercase slug."""
    text = str(value or "").strip()
    if not _ID_RE.fullmatch(text):
        raise ValidationError(f"invalid entity id {value!r}: lowercase letters, digits, '.', '_' and '-'")
    return text


def depth(value, *, default: int = 3, maximum: int = 10) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(f"depth must be a whole number from 1 to {maximum}")
    return value


def normalised_name(text: str) -> str:
    """Names compared for duplicates: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())
