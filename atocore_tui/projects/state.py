"""Project state: trusted key/values per project and category.

This is the highest-trust tier of a context pack, so it is never guessed:
entries are set on purpose. Setting a key that already has an active entry
supersedes it (the old row stays as history); invalidating marks the active
entry superseded. Keys are matched without regard to case, so ``Phase`` and
``phase`` are one key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from peewee import SQL, fn

from .. import validation
from ..errors import NotFound, ValidationError
from ..store import ProjectState, utc_now
from ..validation import confidence as check_confidence


class StateCategory(StrEnum):
    STATUS = "status"
    DECISION = "decision"
    REQUIREMENT = "requirement"
    MILESTONE = "milestone"
    RISK = "risk"
    CONTACT = "contact"
    CONFIG = "config"
    NOTE = "note"


class StateStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in StateCategory)
ACTIVE, SUPERSEDED = StateStatus.ACTIVE.value, StateStatus.SUPERSEDED.value
MAX_KEY_CHARS = 200


def entry_dict(row: ProjectState) -> dict:
    return {"id": row.id, "project": row.project, "category": row.category, "key": row.key,
            "value": row.value, "source": row.source, "confidence": row.confidence,
            "status": row.status, "created_at": row.created_at, "updated_at": row.updated_at}


class ProjectStateService:
    def __init__(self, engine):
        self.engine = engine

    def set(self, project: Any, category: Any, key: Any, value: Any, source: Any = "",
            confidence: Any = 1.0, *, new_label: bool = False) -> dict:
        """Set one fact; an active entry with the same key is superseded in the same transaction.
        ``new_label`` keeps an unknown project name as a label (see Engine.resolve_project)."""
        pid = self._project(project, new_label)
        category = check_category(category)
        key = _text(key, "key")
        if len(key) > MAX_KEY_CHARS:
            raise ValidationError(f"key must be at most {MAX_KEY_CHARS} characters")
        value = _text(value, "value")
        if source is None:
            source = ""
        if not isinstance(source, str):
            raise ValidationError("source must be text")
        confidence = check_confidence(confidence)
        with self.engine.db.atomic():
            current = self._active(pid, category, key)
            if current is not None and (current.value, current.source.strip(), current.confidence) == (
                    value, source.strip(), confidence):
                return {"status": "unchanged", "id": current.id, "category": category, "key": current.key}
            now = utc_now()
            if current is not None:
                ProjectState.update(status=SUPERSEDED, updated_at=now).where(ProjectState.id == current.id).execute()
            row = ProjectState.create(project=pid, category=category, key=key, value=value,
                                      source=source.strip(), confidence=confidence, status=ACTIVE,
                                      created_at=now, updated_at=now)
        return {"status": "updated" if current is not None else "created", "id": row.id,
                "category": category, "key": key, "superseded": current.id if current is not None else None}

    def get(self, project: Any, category: Any = None, include_superseded: bool = False) -> dict:
        """A project's entries, ordered by category (in the order of CATEGORIES) then key."""
        pid = self._project(project)
        query = ProjectState.select().where(ProjectState.project == pid)
        if category is not None and str(category).strip():
            query = query.where(ProjectState.category == check_category(category))
        if not include_superseded:
            query = query.where(ProjectState.status == ACTIVE)
        rows = sorted(query, key=lambda r: (_category_rank(r.category), r.key.lower(), r.created_at))
        return {"project": pid, "entries": [entry_dict(r) for r in rows], "categories": list(CATEGORIES)}

    def history(self, project: Any, category: Any, key: Any) -> dict:
        """Every entry a key has had, newest first (insertion order); NotFound if it never had one."""
        pid = self._project(project)
        category = check_category(category)
        key = _text(key, "key")
        rows = list(ProjectState.select()
                    .where(ProjectState.project == pid, ProjectState.category == category,
                           fn.LOWER(ProjectState.key) == key.lower())
                    .order_by(SQL("rowid").desc()))
        if not rows:
            raise NotFound(f"no state {category}/{key} for project {pid}")
        return {"project": pid, "category": category, "key": rows[0].key, "entries": [entry_dict(r) for r in rows]}

    def invalidate(self, project: Any, category: Any, key: Any) -> dict:
        """Mark the active entry superseded (it stays in the history)."""
        pid = self._project(project)
        category = check_category(category)
        key = _text(key, "key")
        with self.engine.db.atomic():
            current = self._active(pid, category, key)
            if current is None:
                raise NotFound(f"no active state {category}/{key} for project {pid}")
            ProjectState.update(status=SUPERSEDED, updated_at=utc_now()).where(ProjectState.id == current.id).execute()
        return {"status": "invalidated", "id": current.id, "project": pid, "category": category, "key": current.key}

    # ------------------------------------------------------------ internals
    def _project(self, project: Any, new_label: bool = False) -> str:
        """Through the registry's aliases; the project must be registered or named by
        documents or other rows (unless ``new_label``)."""
        validation.text("" if project is None else str(project), "project")
        return self.engine.resolve_project(project, new_label=new_label)

    @staticmethod
    def _active(pid: str, category: str, key: str) -> ProjectState | None:
        return (ProjectState.select()
                .where(ProjectState.project == pid, ProjectState.category == category,
                       fn.LOWER(ProjectState.key) == key.lower(), ProjectState.status == ACTIVE)
                .order_by(SQL("rowid").desc()).first())


def check_category(category: Any) -> str:
    """The one validation of a state category (context building reuses it)."""
    return validation.one_of(category, CATEGORIES, "state category")


def _text(value: Any, what: str) -> str:
    """Text or a number read as text (a value may be ``42``), non-blank, trimmed."""
    return validation.text(value, what, numbers=True)


def _category_rank(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)
