"""The interaction log (SPEC §3) and extraction of candidate memories."""

from __future__ import annotations

from fastapi import APIRouter, Request

from . import original
from .bodies import ExtractBody, InteractionBody
from .deps import EngineDep, run_long

router = APIRouter()


@router.post("/interactions", tags=["interactions"])
def record(body: InteractionBody, engine: EngineDep) -> dict:
    """Record one LLM round-trip; memories its response used are reinforced. A
    ``project`` nobody uses yet is kept as a label (it must be a valid project id)."""
    return engine.interactions.record(
        body.prompt, body.response or "", body.response_summary or "", body.project or "",
        body.client or "", body.session_id or "", body.memories_used or [], body.chunks_used or [],
        body.context_pack, new_label=True)


@router.get("/interactions", tags=["interactions"])
def list_(engine: EngineDep, project: str | None = None, session_id: str | None = None,
          client: str | None = None, since: str | None = None, limit: int = 50) -> dict:
    """Newest first; ``since`` inclusive; ``limit`` capped at 500 (0: none). Each
    summary has the whole prompt, the ids used and ``response_chars``."""
    unknown = original.unknown_read(engine, project)
    if limit == 0 or unknown is not None:
        engine.interactions.entries(None, session_id, client, since, 1)  # still refuse a bad ``since``
        return {"count": 0, "interactions": [], **({"warnings": unknown} if unknown else {})}
    return engine.interactions.entries(project, session_id, client, since, limit, full=True)


@router.post("/interactions/extract", tags=["interactions"])
async def extract_all(engine: EngineDep, request: Request, body: ExtractBody | None = None) -> dict:
    """Turn past interactions into candidate memories (re-running adds no duplicates)."""
    body = body or ExtractBody()
    return await run_long(request, engine.interactions.extract_all, since=body.since, project=body.project)


@router.get("/interactions/{interaction_id}", tags=["interactions"])
def get(interaction_id: str, engine: EngineDep) -> dict:
    return engine.interactions.get(interaction_id)


@router.post("/interactions/{interaction_id}/extract", tags=["interactions"])
def extract(interaction_id: str, engine: EngineDep) -> dict:
    return {"id": interaction_id, "candidates": engine.interactions.extract(interaction_id)}
