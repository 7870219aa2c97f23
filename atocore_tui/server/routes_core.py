"""SPEC §3 core routes: ingestion, query, context packs, health and status."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from .. import __version__
from ..errors import NotFound, ValidationError
from . import original
from .bodies import ContextBody, IngestBody, QueryBody
from .deps import EngineDep, run_long

if TYPE_CHECKING:
    from ..engine import Engine

router = APIRouter()


# ---------------------------------------------------------------- ingest
def check_ingest_path(path: str) -> str:
    """Refuse traversal before the engine resolves anything: a ``..`` part is
    never needed to name a file inside a source. (The engine itself refuses any
    path, symlinks resolved, that lands outside the sources.)"""
    if not path.strip():
        raise ValidationError("path must not be blank")
    if "\x00" in path:
        raise ValidationError("path must not contain NUL characters")
    if ".." in PurePath(path.replace("\\", "/")).parts:
        raise ValidationError(f"path must not contain '..': {path}")
    return path


@router.post("/ingest", tags=["ingest"])
async def ingest(body: IngestBody, engine: EngineDep, request: Request) -> dict:
    """Ingest one file or folder inside a configured source (incremental)."""
    path = check_ingest_path(body.path)
    return await run_long(request, _ingest, engine, path, project=body.project, purge_deleted=body.purge_deleted)


@router.post("/ingest/sources", tags=["ingest"])
async def ingest_sources(engine: EngineDep, request: Request, purge_deleted: bool = False) -> dict:
    """Ingest every configured source."""
    return await run_long(request, _ingest, engine, None, purge_deleted=purge_deleted)


def _ingest(engine: Engine, path: str | None, **options) -> dict:
    """An ingestion and its answer; changed chunks get their semantic vectors
    from a background pass (its progress is in /health)."""
    report = engine.ingest(path, **options)
    engine.start_semantic_pass()
    return {"results": report.results(), "summary": report.summary()}


# ------------------------------------------------------------- retrieval
@router.post("/query", tags=["retrieval"])
def query(body: QueryBody, engine: EngineDep) -> dict:
    """Hybrid search. An unknown ``project`` boosts nothing (see ``warnings``)."""
    canonical, warnings = original.read_project(engine, body.project)
    if warnings and body.only_project:
        return {"results": [], "warnings": warnings}
    hits = engine.query(body.prompt, body.top_k, project=canonical, tags=body.filter_tags,
                        only_project=body.only_project)
    return {"results": [h.to_dict() for h in hits], "warnings": warnings}


@router.post("/context/build", tags=["context"])
def context_build(body: ContextBody, engine: EngineDep) -> dict:
    """The context pack for a prompt; ``tiers`` is the per-tier receipt. An
    unknown ``project`` is a free-text hint that scopes nothing (see ``warnings``)."""
    pack = engine.context.build(body.prompt, body.project, body.budget, unknown_project_as_hint=True)
    return original.pack(pack.to_dict())


@router.get("/context/replay/{interaction_id}", tags=["context"])
def context_replay(interaction_id: str, engine: EngineDep) -> dict:
    """Rebuild an interaction's recorded pack against today's data and show what changed."""
    return engine.context.replay(interaction_id)


router.post("/context/replay/{interaction_id}", tags=["context"],
            operation_id="context_replay_post")(context_replay)


@router.get("/debug/context", tags=["context"])
def debug_context(engine: EngineDep) -> dict:
    """The last pack built by any process on this data dir; ``{"message": …}`` before the first."""
    try:
        return original.pack(engine.context.last_pack())
    except NotFound:
        return original.no_pack()


# ---------------------------------------------------------------- status
@router.get("/health", tags=["status"])
def health(engine: EngineDep, request: Request) -> dict:
    """Liveness and readiness. Open without the token; with a token configured,
    paths are shown only to a caller that sends it."""
    status = engine.status()
    show_paths = original.authenticated(request, request.app.state.token)
    sources = original.source_status(engine, show_paths=show_paths)
    answer = {
        "status": "ok",
        "version": __version__,
        "vectors_count": status["index"]["vectors"],
        "env": original.env_name(),
        "machine_paths": original.machine_paths(engine, status) if show_paths else {},
        "sources_ready": original.sources_ready(sources),
        "source_status": sources,
        "documents": status["documents"],
        "chunks": status["chunks"],
        "vectors": status["index"]["vectors"],
        "index_current": status["index"]["current"],
        "ingesting": status["ingesting"],
        "semantic": status["semantic"],
    }
    if show_paths:
        answer["data_dir"] = status["data_dir"]
    return answer


@router.get("/sources", tags=["status"])
def sources(engine: EngineDep) -> dict:
    status = engine.status()
    listed = original.source_status(engine)
    return {"sources": listed,
            "vault_enabled": next(s["enabled"] for s in listed if s["name"] == "vault"),
            "drive_enabled": next(s["enabled"] for s in listed if s["name"] == "drive"),
            "data_dir": status["data_dir"], "config": status["config"]}


@router.get("/stats", tags=["status"])
def stats(engine: EngineDep) -> dict:
    """Engine status plus a row count per table."""
    return {**engine.status(), "counts": engine.table_counts()}
