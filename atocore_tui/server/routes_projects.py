"""Project registry and project state (SPEC §3)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from ..errors import ValidationError
from ..projects.state import CATEGORIES, check_category
from . import original
from .bodies import LabelAliasBody, ProjectBody, ProjectImportBody, ProjectUpdateBody, StateKeyBody, StateSetBody
from .deps import EngineDep

router = APIRouter()


# ------------------------------------------------------------- registry
@router.get("/projects", tags=["projects"])
def projects(engine: EngineDep) -> dict:
    return engine.projects.list()


@router.get("/projects/template", tags=["projects"])
def template(engine: EngineDep) -> dict:
    return engine.projects.template()


@router.get("/projects/export", tags=["projects"], response_class=PlainTextResponse)
def export(engine: EngineDep) -> str:
    """The registry as YAML (also written to the registry path)."""
    return engine.projects.export_yaml()


@router.post("/projects/import", tags=["projects"])
def import_(body: ProjectImportBody, engine: EngineDep) -> dict:
    """Register or update every project of a YAML registry, all or nothing."""
    return engine.projects.import_yaml(body.yaml, text_only=True)


@router.get("/projects/labels", tags=["projects"])
def labels(engine: EngineDep) -> dict:
    """Project names that clients wrote on memories, state or interactions but
    that are not registered (register one, or make it an alias)."""
    return {"labels": engine.projects.labels()}


@router.post("/projects/labels/{label}/alias", tags=["projects"])
def label_alias(label: str, body: LabelAliasBody, engine: EngineDep) -> dict:
    """Make a label an alias of a registered project; its rows move to the project."""
    return engine.projects.adopt_label(label, body.project)


@router.post("/projects/proposal", tags=["projects"])
def proposal(body: ProjectBody, engine: EngineDep) -> dict:
    """Validate and normalise a registration without writing it; 400 with every
    problem when it is invalid."""
    answer = engine.projects.proposal(body.project_id, body.aliases, body.description, body.ingest_roots)
    if not answer["valid"]:
        raise ValidationError("invalid project registration: "
                              + "; ".join(p["message"] for p in answer["problems"]))
    return {**answer["normalised"], **answer}


@router.post("/projects/register", tags=["projects"])
def register(body: ProjectBody, engine: EngineDep) -> dict:
    return engine.projects.register(body.project_id, body.aliases, body.description, body.ingest_roots)


@router.get("/projects/{name}", tags=["projects"])
def project(name: str, engine: EngineDep) -> dict:
    return engine.projects.get(name)


@router.put("/projects/{name}", tags=["projects"])
def update(name: str, body: ProjectUpdateBody, engine: EngineDep) -> dict:
    return engine.projects.update(name, body.aliases, body.description, body.ingest_roots)


@router.post("/projects/{name}/refresh", tags=["projects"])
def refresh(name: str, engine: EngineDep, purge_deleted: bool = False) -> dict:
    return engine.projects.refresh(name, purge_deleted=purge_deleted)


# ---------------------------------------------------------------- state
@router.post("/project/state", tags=["state"])
def state_set(body: StateSetBody, engine: EngineDep) -> dict:
    """``{"status": "ok", id, category, key, result: created|updated|unchanged}``.
    A ``project`` nobody uses yet is kept as a label (it must be a valid project id)."""
    answer = engine.state.set(body.project, body.category, body.key, body.value, body.source,
                              body.confidence, new_label=True)
    return original.ok(answer, answer["status"])


@router.get("/project/state/{project}", tags=["state"])
def state_get(project: str, engine: EngineDep, category: str | None = None,
              include_superseded: bool = False) -> dict:
    """A project nobody uses has no entries (see ``warnings``)."""
    unknown = original.unknown_read(engine, project)
    if unknown is not None:
        if category is not None and category.strip():
            check_category(category)
        return {"project": project, "entries": [], "categories": list(CATEGORIES), "warnings": unknown}
    return engine.state.get(project, category, include_superseded)


@router.get("/project/state/{project}/history", tags=["state"])
def state_history(project: str, category: str, key: str, engine: EngineDep) -> dict:
    return engine.state.history(project, category, key)


@router.delete("/project/state", tags=["state"])
def state_invalidate(body: StateKeyBody, engine: EngineDep) -> dict:
    return engine.state.invalidate(body.project, body.category, body.key)
