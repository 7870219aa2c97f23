"""Backups (SPEC §3 ``/admin/backup``)."""

from __future__ import annotations

from fastapi import APIRouter

from .bodies import BackupBody
from .deps import EngineDep

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/backup")
def create(engine: EngineDep, body: BackupBody | None = None) -> dict:
    """Snapshot the database (and optionally the index); returns the metadata."""
    body = body or BackupBody()
    return engine.backups.create(include_index=body.include_index, label=body.label)


@router.get("/backup")
def list_(engine: EngineDep) -> dict:
    return {"backups": engine.backups.list()}


@router.get("/backup/{stamp}/validate")
def validate(stamp: str, engine: EngineDep) -> dict:
    return engine.backups.validate(stamp)
