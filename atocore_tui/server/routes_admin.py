"""Backups (SPEC §3 ``/admin/backup``) and the original service's admin views of
conflicts and graduation (the same engine calls as ``/graph/…``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..errors import NotFound, ValidationError
from .bodies import BackupBody, ResolveBody
from .deps import EngineDep, run_long

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/backup")
async def create(engine: EngineDep, request: Request, body: BackupBody | None = None) -> dict:
    """Snapshot the database (and, with ``include_index`` or the original's
    ``include_chroma``, the vector index); returns the metadata."""
    body = body or BackupBody()
    return await run_long(request, engine.backups.create, include_index=body.include_index or body.include_chroma,
                          label=body.label)


@router.get("/backup")
def list_(engine: EngineDep) -> dict:
    return {"backup_dir": str(engine.backups.root), "backups": engine.backups.entries()}


@router.get("/backup/{stamp}/validate")
async def validate(stamp: str, engine: EngineDep, request: Request) -> dict:
    """Check a backup; 404 when there is none by that stamp (malformed ones included)."""
    try:
        return await run_long(request, engine.backups.validate, stamp)
    except ValidationError as error:
        raise NotFound(f"backup not found: {stamp} ({error})") from None


@router.get("/conflicts")
def conflicts(engine: EngineDep, project: str | None = None, status: str | None = None) -> dict:
    """Graph conflicts (as ``GET /graph/conflicts``)."""
    found = engine.graph.conflicts(project, status)
    return {"count": len(found), "conflicts": found}


@router.post("/conflicts/{conflict_id}/resolve")
def resolve(conflict_id: str, body: ResolveBody, engine: EngineDep) -> dict:
    """``{action: dismiss|supersede_others|no_action, winner_id?}``; supersede_others
    marks the other members superseded (undo: ``POST /graph/conflicts/{id}/reopen``)."""
    return engine.graph.resolve(conflict_id, body.action, body.chosen)


@router.get("/graduation/stats")
def graduation_stats(engine: EngineDep, project: str | None = None) -> dict:
    """How many memories became entities: counts and rate."""
    return engine.graph.graduation_stats(project)
