"""The engineering graph service (``engine.graph``).

Entities and relationships per project, the candidate → active → superseded
lifecycle with an audit row for every change, and the one entry point the
faces call for queries, gaps, conflicts, graduation and alerts. Every write
validates first and then runs in one transaction, so bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from peewee import fn

from .. import validation
from ..errors import NotFound, ValidationError
from ..store.models import Conflict, ConflictMember, Entity, EntityAudit, Relationship, utc_now
from . import alerts, conflicts, gaps, graduation, queries, vocab
from .records import (
    add_relationship,
    audit,
    entity_brief,
    entity_dict,
    get_entities,
    get_entity,
    relationship_dict,
    remove_relationship,
    set_fields,
    snapshot,
)

if TYPE_CHECKING:
    from ..engine import Engine

MAX_LIST = 5000


class GraphService:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.db = engine.db

    # ------------------------------------------------------------- projects
    def _project(self, name) -> str:
        """A project that must be given and known (alias -> canonical id)."""
        project = self.engine.resolve_project(name)
        if project is None:
            raise ValidationError("project is required")
        return project

    def _project_filter(self, name) -> str | None:
        return self.engine.resolve_project(name)

    # -------------------------------------------------------------- reading
    def entities(self, project: str | None = None, entity_type: str | None = None, status: str | None = None,
                 name_contains: str | None = None, limit: int = 500) -> list[dict]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIST}")
        query = Entity.select()
        if project:
            query = query.where(Entity.project == self._project_filter(project))
        if entity_type:
            query = query.where(Entity.entity_type == vocab.entity_type(entity_type))
        if status:
            query = query.where(Entity.status == vocab.entity_status(status))
        if name_contains and name_contains.strip():
            query = query.where(Entity.name.contains(name_contains.strip()))
        rows = query.order_by(Entity.project, Entity.entity_type, Entity.name, Entity.id).limit(limit)
        return [entity_dict(e) for e in rows]

    def find_entity(self, ref: str, project: str | None = None, entity_type: str | None = None) -> dict:
        """The entity named by ``ref``: its id, or its exact name in any case (models
        and people know names, not ids), optionally within a project and of a type.
        A superseded entity is found by id only. Blank: ValidationError; no such
        name: NotFound; several live entities of that name: ValidationError
        listing them (pass the id or a project)."""
        ref = ref.strip() if isinstance(ref, str) else ""
        if not ref:
            raise ValidationError("give an entity id or name")
        row = Entity.get_or_none(Entity.id == ref)
        if row is not None:
            return entity_dict(row)
        found = [e for e in self.entities(project, entity_type, None, ref, 50)
                 if e["name"].lower() == ref.lower() and e["status"] != "superseded"]
        if not found:
            raise NotFound(f"no entity named {ref!r}; use graph_entities to search by part of a name")
        if len(found) > 1:
            listed = ", ".join(f"{e['id']} ({e['project']}/{e['entity_type']})" for e in found)
            raise ValidationError(f"{len(found)} entities are named {ref!r}: {listed}; pass the id or a project")
        return found[0]

    def type_counts(self, project: str) -> dict[str, dict[str, int]]:
        """Per entity type of a project: how many entities, and how many are candidates
        (counted in the database, whatever the size of the graph)."""
        query = (Entity.select(Entity.entity_type, Entity.status, fn.COUNT(Entity.id))
                 .where(Entity.project == self._project_filter(project))
                 .group_by(Entity.entity_type, Entity.status))
        counts: dict[str, dict[str, int]] = {}
        for entity_type, status, n in query.tuples():
            row = counts.setdefault(entity_type, {"total": 0, "candidates": 0})
            row["total"] += n
            if status == vocab.CANDIDATE:
                row["candidates"] += n
        return counts

    def entity(self, entity_id: str) -> dict:
        """One entity with its relationships in and out, open conflicts and audit trail."""
        entity = get_entity(entity_id)
        outgoing = list(Relationship.select().where(Relationship.source == entity.id))
        incoming = list(Relationship.select().where(Relationship.target == entity.id))
        others = get_entities([r.target_id for r in outgoing] + [r.source_id for r in incoming])
        open_conflicts = (Conflict.select().join(ConflictMember)
                          .where((ConflictMember.entity == entity.id) & (Conflict.status == "open")).distinct())
        trail = EntityAudit.select().where(EntityAudit.entity == entity.id).order_by(EntityAudit.id.desc())
        return {**entity_dict(entity),
                "outgoing": _edges(outgoing, others, "target_id"),
                "incoming": _edges(incoming, others, "source_id"),
                "conflicts": [conflicts.conflict_dict(c) for c in open_conflicts],
                "graduated_from": graduation.graduated_from(entity.id),
                "audit": [{"id": a.id, "at": a.at, "action": a.action, "actor": a.actor,
                           "before": a.before, "after": a.after} for a in trail]}

    # -------------------------------------------------------------- writing
    def create_entity(self, project: str, entity_type: str, name: str, description: str = "", *,
                      confidence: float = 1.0, source_refs: Iterable[str] | None = None,
                      status: str = vocab.CANDIDATE, entity_id: str | None = None, actor: str = "user",
                      _creation_note: dict | None = None) -> dict:
        """A new entity (a candidate unless ``status='active'``, which also checks conflicts)."""
        fields = {"project": self._project(project), "entity_type": vocab.entity_type(entity_type),
                  "name": vocab.name(name), "description": vocab.description(description),
                  "confidence": validation.confidence(confidence), "source_refs": vocab.source_refs(source_refs),
                  "status": vocab.entity_status(status)}
        if fields["status"] == vocab.SUPERSEDED:
            raise ValidationError("a new entity is a candidate or active, not superseded")
        if entity_id is not None:
            entity_id = vocab.entity_id(entity_id)
            if Entity.get_or_none(Entity.id == entity_id) is not None:
                raise ValidationError(f"entity id {entity_id} is taken")
        with self.db.atomic():
            now = utc_now()
            extra = {"id": entity_id} if entity_id else {}
            entity = Entity.create(**fields, **extra, created_at=now, updated_at=now)
            audit(entity, "created", None, {**snapshot(entity), **(_creation_note or {})}, actor)
            found = conflicts.detect_for([entity]) if entity.status == vocab.ACTIVE else []
        return {**entity_dict(entity), "conflicts": found}

    def update_entity(self, entity_id: str, *, name: str | None = None, description: str | None = None,
                      confidence: float | None = None, source_refs: Iterable[str] | None = None,
                      entity_type: str | None = None, actor: str = "user") -> dict:
        entity = get_entity(entity_id)
        if entity.status == vocab.SUPERSEDED:
            raise ValidationError(f"entity {entity.id} is superseded: history is not edited")
        wanted = {"name": None if name is None else vocab.name(name),
                  "description": None if description is None else vocab.description(description),
                  "confidence": None if confidence is None else validation.confidence(confidence),
                  "source_refs": None if source_refs is None else vocab.source_refs(source_refs),
                  "entity_type": None if entity_type is None else vocab.entity_type(entity_type)}
        changes = {k: v for k, v in wanted.items() if v is not None and v != getattr(entity, k)}
        found: list[dict] = []
        if changes:
            with self.db.atomic():
                set_fields(entity, changes, "updated", actor)
                if entity.status == vocab.ACTIVE:
                    found = conflicts.detect_for([entity])
        return {**entity_dict(entity), "conflicts": found}

    def promote(self, entity_id: str, actor: str = "user") -> dict:
        """candidate → active; checks conflicts and completes a graduation, in one transaction."""
        entity = get_entity(entity_id)
        if entity.status != vocab.CANDIDATE:
            raise ValidationError(f"entity {entity.id} is {entity.status}: only candidates are promoted")
        with self.db.atomic():
            set_fields(entity, {"status": vocab.ACTIVE}, "promoted", actor)
            graduated = graduation.mark_graduated(entity)
            found = conflicts.detect_for([entity])
        return {**entity_dict(entity), "conflicts": found, "graduated": graduated}

    def supersede(self, entity_id: str, by: str | None = None, actor: str = "user") -> dict:
        """Retire an entity (candidate or active); with ``by``, record ``by SUPERSEDES it``."""
        entity = get_entity(entity_id)
        if entity.status == vocab.SUPERSEDED:
            raise ValidationError(f"entity {entity.id} is already superseded")
        successor = get_entity(by) if by else None
        if successor is not None and successor.id == entity.id:
            raise ValidationError("an entity cannot supersede itself")
        with self.db.atomic():
            set_fields(entity, {"status": vocab.SUPERSEDED}, "superseded", actor,
                       {"by": successor.id} if successor else None)
            if successor is not None and not _edge_exists(successor.id, "SUPERSEDES", entity.id):
                add_relationship(successor, "SUPERSEDES", entity, actor=actor)
        return entity_dict(entity)

    def relate(self, source_id: str, relationship_type: str, target_id: str, *, confidence: float = 1.0,
               source_refs: Iterable[str] | None = None, actor: str = "user") -> dict:
        rel_type = vocab.relationship_type(relationship_type)
        source, target = get_entity(source_id), get_entity(target_id)
        if source.id == target.id:
            raise ValidationError(f"an entity cannot be related to itself ({rel_type})")
        allowed = vocab.TARGET_TYPES.get(rel_type)
        if allowed and target.entity_type not in allowed:
            raise ValidationError(f"{rel_type} must point at a {' or '.join(allowed)}, "
                                  f"not a {target.entity_type} ({target.name})")
        confidence = validation.confidence(confidence)
        refs = vocab.source_refs(source_refs)
        if _edge_exists(source.id, rel_type, target.id):
            raise ValidationError(f"{source.name} {rel_type} {target.name} already exists")
        with self.db.atomic():
            rel = add_relationship(source, rel_type, target, confidence, refs, actor)
            found = (conflicts.detect_for([source, target])
                     if source.status == target.status == vocab.ACTIVE else [])
        return {**relationship_dict(rel), "conflicts": found}

    def unrelate(self, relationship_id: str, actor: str = "user") -> dict:
        rel = Relationship.get_or_none(Relationship.id == str(relationship_id or "").strip())
        if rel is None:
            raise NotFound(f"unknown relationship: {relationship_id}")
        removed = relationship_dict(rel)
        with self.db.atomic():
            remove_relationship(rel, "unrelated", actor)
        return removed

    # -------------------------------------------------------------- queries
    def system_map(self, project: str) -> dict:
        return queries.system_map(self._project(project))

    def requirements_for(self, entity_id: str) -> dict:
        return queries.requirements_for(entity_id)

    def decisions(self, project: str, include_superseded: bool = False) -> list[dict]:
        return queries.decisions(self._project(project), include_superseded)

    def recent_changes(self, project: str | None = None, since: str | None = None, limit: int = 50) -> list[dict]:
        return queries.recent_changes(self._project_filter(project), since, limit)

    def impact(self, entity_id: str, depth: int | None = None) -> dict:
        return queries.impact(entity_id, depth)

    def evidence(self, entity_id: str, depth: int | None = None) -> dict:
        return queries.evidence(entity_id, depth)

    def gaps(self, project: str) -> dict:
        return gaps.gaps(self._project(project))

    def gap_summary(self) -> list[dict]:
        return gaps.gap_summary()

    # ------------------------------------------------------------ conflicts
    def conflicts(self, project: str | None = None, status: str | None = None) -> list[dict]:
        return conflicts.list_conflicts(self._project_filter(project), status)

    def conflict(self, conflict_id: str) -> dict:
        return conflicts.conflict_dict(conflicts.get_conflict(conflict_id))

    def resolve(self, conflict_id: str, action: str, winner: str | None = None, actor: str = "user") -> dict:
        with self.db.atomic():
            return conflicts.resolve(conflict_id, action, winner, actor)

    def reopen(self, conflict_id: str, actor: str = "user") -> dict:
        """Undo a conflict's resolution (superseded losers come back)."""
        with self.db.atomic():
            return conflicts.reopen(conflict_id, actor)

    # ----------------------------------------------------------- graduation
    def propose_graduation(self, memory_id: str) -> dict:
        return graduation.propose(memory_id)

    def graduate(self, memory_id: str, *, entity_type: str | None = None, name: str | None = None,
                 description: str | None = None, project: str | None = None,
                 confidence: float | None = None, actor: str = "user") -> dict:
        """Create the candidate entity for a memory (the proposal, edited by any argument given)."""
        proposal = graduation.propose(memory_id)
        memory = graduation.get_memory(memory_id)
        project = project or proposal["project"]
        if not project:
            raise ValidationError(f"memory {memory.id} has no project: say which project the entity belongs to")
        return self.create_entity(
            project, entity_type or proposal["entity_type"], name if name is not None else proposal["name"],
            description if description is not None else proposal["description"],
            confidence=proposal["confidence"] if confidence is None else confidence,
            source_refs=proposal["source_refs"], actor=graduation.ACTOR,
            _creation_note=graduation.creation_note(memory))

    def graduation_stats(self, project: str | None = None) -> dict:
        """How many memories became entities: counts and rate, overall or for a project."""
        return graduation.stats(self._project_filter(project))

    # --------------------------------------------------------------- alerts
    def alerts(self, include_acknowledged: bool = False, limit: int = 100) -> list[dict]:
        return alerts.list_alerts(include_acknowledged=include_acknowledged, limit=limit)

    def acknowledge_alert(self, alert_id) -> dict:
        return alerts.acknowledge(alert_id)

    def raise_alert(self, level: str, title: str, message: str = "", source: str = "") -> dict:
        return alerts.raise_alert(level, title, message, source)

    # --------------------------------------------------------------- sample
    def load_sample_if_empty(self, path: str | Path | None = None) -> dict:
        """Load the vault's sample graph (``.atocore/graph.yaml``) when the graph is empty."""
        from . import sample

        return sample.load_if_empty(self, path)


def _edge_exists(source_id: str, rel_type: str, target_id: str) -> bool:
    return Relationship.select().where((Relationship.source == source_id) & (Relationship.target == target_id)
                                       & (Relationship.relationship_type == rel_type)).exists()


def _edges(rows: list[Relationship], others: dict[str, Entity], other_field: str) -> list[dict]:
    items = [{**relationship_dict(r), "other": entity_brief(others[getattr(r, other_field)])}
             for r in rows if getattr(r, other_field) in others]
    return sorted(items, key=lambda i: (i["relationship_type"], i["other"]["name"].lower()))
