"""The registry's rows: saving a registration, project names other tables
carry (labels), and the alerts a refresh raises."""

from __future__ import annotations

from typing import Any

from ..store import Alert, Document, Project, ProjectAlias, utc_now
from ..store.models import Entity, Interaction, Memory, ProjectState
from .names import Registration

LABELLED: tuple[Any, ...] = (Memory, ProjectState, Interaction, Entity)
"""Rows that carry a project name: a name only they use is a *label* (a
client of the original service wrote it), known but unregistered."""


def distinct_projects(model) -> set[str]:
    """The non-blank values of ``model.project``, by a skip scan of its index
    (one index probe per distinct value, so 100k rows cost what 20 do)."""
    table = model._meta.table_name
    cursor = model._meta.database.execute_sql(
        f'WITH RECURSIVE p(v) AS (SELECT MIN("project") FROM "{table}" WHERE "project" > \'\' '
        f'UNION ALL SELECT (SELECT MIN("project") FROM "{table}" WHERE "project" > p.v) FROM p '
        f'WHERE p.v IS NOT NULL) SELECT v FROM p WHERE v IS NOT NULL')
    return {row[0] for row in cursor.fetchall()}


def save(reg: Registration, *, create: bool, aliases: bool = True) -> None:
    """Write one registration's row (and, unless told not to, its aliases); call inside a transaction."""
    now = utc_now()
    if create:
        Project.create(id=reg.project_id, description=reg.description, ingest_roots=reg.ingest_roots,
                       created_at=now, updated_at=now)
    else:
        Project.update(description=reg.description, ingest_roots=reg.ingest_roots,
                       updated_at=now).where(Project.id == reg.project_id).execute()
    if aliases:
        for alias in reg.aliases:
            ProjectAlias.create(alias=alias, project=reg.project_id)


def alert(title: str, message: str) -> None:
    """Raise an alert unless the same one is still unacknowledged."""
    open_already = Alert.select().where(Alert.title == title, Alert.message == message,
                                        Alert.acknowledged == False).exists()  # noqa: E712
    if not open_already:
        Alert.create(level="warning", title=title, message=message, source="projects")


def documented_names() -> set[str]:
    """Project names that documents use, and labels that only other rows use."""
    names = distinct_projects(Document)
    for model in LABELLED:
        names |= distinct_projects(model)
    return names
