"""Rows of the graph as plain data, and the low-level audited writes.

Every change to an entity or a relationship goes through the writers here, so
that each one leaves an :class:`EntityAudit` row; they expect to run inside
the caller's transaction and do no validation (the service validates first).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import NotFound
from ..store.models import Entity, EntityAudit, Relationship, utc_now

ENTITY_FIELDS = ("project", "entity_type", "name", "description", "status", "confidence", "source_refs")


def entity_dict(entity: Entity) -> dict:
    return {"id": entity.id, "project": entity.project, "entity_type": entity.entity_type,
            "name": entity.name, "description": entity.description, "status": entity.status,
            "confidence": entity.confidence, "source_refs": list(entity.source_refs or []),
            "created_at": entity.created_at, "updated_at": entity.updated_at}


def entity_brief(entity: Entity) -> dict:
    """The few fields a list or a path needs."""
    return {"id": entity.id, "name": entity.name, "entity_type": entity.entity_type,
            "status": entity.status, "project": entity.project}


def relationship_dict(rel: Relationship) -> dict:
    return {"id": rel.id, "source": rel.source_id, "target": rel.target_id,
            "relationship_type": rel.relationship_type, "confidence": rel.confidence,
            "source_refs": list(rel.source_refs or []), "created_at": rel.created_at}


def snapshot(entity: Entity) -> dict:
    return {field: getattr(entity, field) for field in ENTITY_FIELDS}


def get_entity(entity_id) -> Entity:
    entity = Entity.get_or_none(Entity.id == str(entity_id or "").strip())
    if entity is None:
        raise NotFound(f"unknown entity: {entity_id}")
    return entity


def get_entities(ids: Iterable[str]) -> dict[str, Entity]:
    """Many entities by id in chunks (SQLite limits the number of parameters)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Entity] = {}
    for start in range(0, len(wanted), 500):
        for entity in Entity.select().where(Entity.id.in_(wanted[start:start + 500])):
            found[entity.id] = entity
    return found


def audit(entity: Entity | str, action: str, before=None, after=None, actor: str = "user") -> None:
    EntityAudit.create(entity=entity, action=action, before=before, after=after, actor=actor, at=utc_now())


def set_fields(entity: Entity, changes: dict, action: str, actor: str = "user", note: dict | None = None) -> None:
    """Apply field changes to an entity and audit before/after of what changed."""
    before = {k: getattr(entity, k) for k in changes}
    for key, value in changes.items():
        setattr(entity, key, value)
    entity.updated_at = utc_now()
    entity.save()
    after = dict(changes)
    if note:
        after.update(note)
    audit(entity, action, before, after, actor)


def add_relationship(source: Entity, rel_type: str, target: Entity, confidence: float = 1.0,
                     source_refs: list[str] | None = None, actor: str = "user") -> Relationship:
    rel = Relationship.create(source=source, target=target, relationship_type=rel_type,
                              confidence=confidence, source_refs=source_refs or [], created_at=utc_now())
    audit(source, "related", None, relationship_dict(rel), actor)
    return rel


def remove_relationship(rel: Relationship, action: str = "unrelated", actor: str = "user",
                        note: dict | None = None) -> None:
    """Delete an edge; its last state survives in the audit row of its source entity."""
    before = relationship_dict(rel)
    source_id = rel.source_id
    rel.delete_instance()
    audit(source_id, action, before, note, actor)
