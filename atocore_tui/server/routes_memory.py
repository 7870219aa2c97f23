"""Memories (SPEC §3) and the review queue (an extension)."""

from __future__ import annotations

from fastapi import APIRouter

from ..memory.service import invalidated_answer, list_answer, stored_answer, updated_answer
from . import original
from .bodies import (
    MemoryCreateBody,
    MemorySupersedeBody,
    MemoryUpdateBody,
    ReviewEditBody,
    ReviewMergeBody,
    ReviewSupersedeBody,
)
from .deps import EngineDep

router = APIRouter()


# --------------------------------------------------------------- memory
@router.post("/memory", tags=["memory"])
def create(body: MemoryCreateBody, engine: EngineDep) -> dict:
    """``{"status": "ok", id, memory_type, result: "stored"}``. A ``project`` nobody
    uses yet is kept as a label (it must be a valid project id)."""
    record = engine.memories.create(body.memory_type, body.content, body.project or "", body.confidence,
                                    status=body.status, new_label=True)
    return original.ok(stored_answer(record), "stored")


@router.get("/memory", tags=["memory"])
def list_(engine: EngineDep, memory_type: str | None = None, project: str | None = None,
          active_only: bool = True, min_confidence: float = 0.0, limit: int = 50,
          status: str | None = None) -> dict:
    """``project`` omitted: every project; ``project=`` (empty): cross-project memories only;
    a project nobody uses: nothing (see ``warnings``); ``limit=0``: nothing."""
    unknown = original.unknown_read(engine, project)
    # The other filters are checked all the same (a bad one is a 400).
    records = engine.memories.list(memory_type or None, None if unknown else project, active_only,
                                   min_confidence, 1 if limit == 0 else limit, status=status or None)
    if unknown is not None:
        return {**list_answer([]), "warnings": unknown}
    return list_answer([] if limit == 0 else records)


@router.get("/memory/{memory_id}", tags=["memory"])
def get(memory_id: str, engine: EngineDep) -> dict:
    return engine.memories.get(memory_id).to_dict()


@router.put("/memory/{memory_id}", tags=["memory"])
def update(memory_id: str, body: MemoryUpdateBody, engine: EngineDep) -> dict:
    return updated_answer(engine.memories.update(memory_id, body.content, body.confidence, body.status))


@router.delete("/memory/{memory_id}", tags=["memory"])
def invalidate(memory_id: str, engine: EngineDep) -> dict:
    return invalidated_answer(engine.memories.invalidate(memory_id))


@router.get("/memory/{memory_id}/audit", tags=["memory"])
def audit(memory_id: str, engine: EngineDep) -> dict:
    return {"id": memory_id, "audit": [a.to_dict() for a in engine.memories.audit(memory_id)]}


@router.post("/memory/{memory_id}/undo", tags=["memory"])
def undo(memory_id: str, engine: EngineDep) -> dict:
    """Revert the newest action on a memory (from its audit trail)."""
    return engine.memories.undo(memory_id).to_dict()


@router.post("/memory/{memory_id}/supersede", tags=["memory"])
def supersede(memory_id: str, body: MemorySupersedeBody, engine: EngineDep) -> dict:
    """Replace an active memory; returns the replacement."""
    return engine.memories.supersede(memory_id, body.content, replacement_id=body.replacement_id,
                                     confidence=body.confidence).to_dict()


# --------------------------------------------------------------- review
@router.get("/review", tags=["review"])
def review_list(engine: EngineDep, order: str = "oldest", project: str | None = None,
                limit: int = 50) -> dict:
    """Candidate memories with their evidence and near-duplicates."""
    items = engine.review.list(order=order, project=project, limit=limit)
    return {"count": engine.review.count(project), "items": [i.to_dict() for i in items]}


@router.get("/review/{memory_id}", tags=["review"])
def review_item(memory_id: str, engine: EngineDep) -> dict:
    return engine.review.item(memory_id).to_dict()


@router.post("/review/{memory_id}/promote", tags=["review"])
def promote(memory_id: str, engine: EngineDep) -> dict:
    return engine.review.promote(memory_id).to_dict()


@router.post("/review/{memory_id}/reject", tags=["review"])
def reject(memory_id: str, engine: EngineDep) -> dict:
    return engine.review.reject(memory_id).to_dict()


@router.post("/review/{memory_id}/edit", tags=["review"])
def edit_and_promote(memory_id: str, body: ReviewEditBody, engine: EngineDep) -> dict:
    return engine.review.edit_and_promote(memory_id, body.content, body.memory_type, body.confidence).to_dict()


@router.post("/review/{memory_id}/merge", tags=["review"])
def merge(memory_id: str, body: ReviewMergeBody, engine: EngineDep) -> dict:
    """The existing memory ``into_id`` absorbs the candidate; returns it."""
    return engine.review.merge(memory_id, body.into_id, body.content).to_dict()


@router.post("/review/{memory_id}/supersede", tags=["review"])
def review_supersede(memory_id: str, body: ReviewSupersedeBody, engine: EngineDep) -> dict:
    """The candidate becomes active and replaces ``old_id``."""
    return engine.review.supersede(memory_id, body.old_id).to_dict()
