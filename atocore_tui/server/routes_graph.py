"""The engineering graph and alerts (extensions beyond the original contract)."""

from __future__ import annotations

from fastapi import APIRouter

from .bodies import EntityCreateBody, EntitySupersedeBody, EntityUpdateBody, GraduateBody, RelationshipBody, ResolveBody
from .deps import EngineDep

router = APIRouter(prefix="/graph", tags=["graph"])
alerts_router = APIRouter(tags=["alerts"])


# ------------------------------------------------------------- entities
@router.get("/entities")
def entities(engine: EngineDep, project: str | None = None, entity_type: str | None = None,
             status: str | None = None, name_contains: str | None = None, limit: int = 500) -> dict:
    found = engine.graph.entities(project, entity_type, status, name_contains, limit)
    return {"count": len(found), "entities": found}


@router.post("/entities")
def create_entity(body: EntityCreateBody, engine: EngineDep) -> dict:
    return engine.graph.create_entity(body.project, body.entity_type, body.name, body.description,
                                      confidence=body.confidence, source_refs=body.source_refs,
                                      status=body.status)


@router.get("/entities/{entity_id}")
def entity(entity_id: str, engine: EngineDep) -> dict:
    """One entity with its relationships in and out, open conflicts and audit trail."""
    return engine.graph.entity(entity_id)


@router.put("/entities/{entity_id}")
def update_entity(entity_id: str, body: EntityUpdateBody, engine: EngineDep) -> dict:
    return engine.graph.update_entity(entity_id, name=body.name, description=body.description,
                                      confidence=body.confidence, source_refs=body.source_refs,
                                      entity_type=body.entity_type)


@router.post("/entities/{entity_id}/promote")
def promote(entity_id: str, engine: EngineDep) -> dict:
    return engine.graph.promote(entity_id)


@router.post("/entities/{entity_id}/supersede")
def supersede(entity_id: str, engine: EngineDep, body: EntitySupersedeBody | None = None) -> dict:
    return engine.graph.supersede(entity_id, by=(body.by if body else None))


@router.post("/relationships")
def relate(body: RelationshipBody, engine: EngineDep) -> dict:
    return engine.graph.relate(body.source_id, body.relationship_type, body.target_id,
                               confidence=body.confidence, source_refs=body.source_refs)


@router.delete("/relationships/{relationship_id}")
def unrelate(relationship_id: str, engine: EngineDep) -> dict:
    return engine.graph.unrelate(relationship_id)


# -------------------------------------------------------------- queries
@router.get("/map/{project}")
def system_map(project: str, engine: EngineDep) -> dict:
    """The PART_OF tree of a project."""
    return engine.graph.system_map(project)


@router.get("/requirements/{entity_id}")
def requirements_for(entity_id: str, engine: EngineDep) -> dict:
    return engine.graph.requirements_for(entity_id)


@router.get("/decisions/{project}")
def decisions(project: str, engine: EngineDep, include_superseded: bool = False) -> dict:
    found = engine.graph.decisions(project, include_superseded)
    return {"count": len(found), "decisions": found}


@router.get("/changes")
def recent_changes(engine: EngineDep, project: str | None = None, since: str | None = None,
                   limit: int = 50) -> dict:
    found = engine.graph.recent_changes(project, since, limit)
    return {"count": len(found), "changes": found}


@router.get("/impact/{entity_id}")
def impact(entity_id: str, engine: EngineDep, depth: int | None = None) -> dict:
    """What depends on the entity, walked downstream breadth-first."""
    return engine.graph.impact(entity_id, depth)


@router.get("/evidence/{entity_id}")
def evidence(entity_id: str, engine: EngineDep, depth: int | None = None) -> dict:
    """What the entity rests on (inbound provenance)."""
    return engine.graph.evidence(entity_id, depth)


@router.get("/gaps")
def gap_summary(engine: EngineDep) -> dict:
    """Gap counts for every project."""
    return {"projects": engine.graph.gap_summary()}


@router.get("/gaps/{project}")
def gaps(project: str, engine: EngineDep) -> dict:
    """Orphan requirements, risky decisions and unsupported claims, with reasons."""
    return engine.graph.gaps(project)


# ------------------------------------------------------------ conflicts
@router.get("/conflicts")
def conflicts(engine: EngineDep, project: str | None = None, status: str | None = None) -> dict:
    found = engine.graph.conflicts(project, status)
    return {"count": len(found), "conflicts": found}


@router.get("/conflicts/{conflict_id}")
def conflict(conflict_id: str, engine: EngineDep) -> dict:
    return engine.graph.conflict(conflict_id)


@router.post("/conflicts/{conflict_id}/resolve")
def resolve(conflict_id: str, body: ResolveBody, engine: EngineDep) -> dict:
    """supersede_others marks the other members superseded (undo with ``/reopen``)."""
    return engine.graph.resolve(conflict_id, body.action, body.chosen)


@router.post("/conflicts/{conflict_id}/reopen")
def reopen(conflict_id: str, engine: EngineDep) -> dict:
    """Undo a resolution: the conflict is open again and superseded losers come back."""
    return engine.graph.reopen(conflict_id)


# ----------------------------------------------------------- graduation
@router.get("/graduation/{memory_id}")
def propose_graduation(memory_id: str, engine: EngineDep) -> dict:
    """The entity candidate a memory would become (nothing written)."""
    return engine.graph.propose_graduation(memory_id)


@router.post("/graduation/{memory_id}")
def graduate(memory_id: str, engine: EngineDep, body: GraduateBody | None = None) -> dict:
    """Create the candidate entity; promoting it marks the memory graduated."""
    body = body or GraduateBody()
    return engine.graph.graduate(memory_id, entity_type=body.entity_type, name=body.name,
                                 description=body.description, project=body.project,
                                 confidence=body.confidence)


# --------------------------------------------------------------- alerts
@alerts_router.get("/alerts")
def alerts(engine: EngineDep, include_acknowledged: bool = False, limit: int = 100) -> dict:
    found = engine.graph.alerts(include_acknowledged, limit)
    return {"count": len(found), "alerts": found}


@alerts_router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: str, engine: EngineDep) -> dict:
    return engine.graph.acknowledge_alert(alert_id)
