"""Request bodies of the HTTP API (Pydantic), so the OpenAPI schema says what
each route takes. They check shape only (types, required fields); every rule
about values (blank prompts, confidence range, known projects…) is the
engine's, so HTTP, MCP and the workstation refuse the same things the same way.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    """Unknown fields are ignored: clients of the original service may send more."""


# ------------------------------------------------------------------ core
class IngestBody(Body):
    path: str = Field(description="file or folder inside a configured source (relative to a source root, or absolute)")
    project: str | None = Field(None, description="project for notes whose front matter names none")
    purge_deleted: bool = False


class QueryBody(Body):
    prompt: str
    top_k: int = 10
    filter_tags: list[str] | None = None
    project: str | None = Field(None, description="boost this project's notes (id or alias)")
    only_project: bool = Field(False, description="search only the project's notes")


class ContextBody(Body):
    prompt: str
    project: str | None = None
    budget: int | None = Field(None, description="character budget (default from the config)")


# -------------------------------------------------------------- projects
class ProjectBody(Body):
    project_id: str
    aliases: list[str] = []
    description: str = ""
    ingest_roots: list[Any] = Field(
        [], description='[{"source": "vault", "subpath": "projects/x"}] or "vault:projects/x"')


class ProjectUpdateBody(Body):
    aliases: list[str] | None = None
    description: str | None = None
    ingest_roots: list[Any] | None = None


class ProjectImportBody(Body):
    yaml: str = Field(description="a registry YAML document (as GET /projects/export returns)")


class StateSetBody(Body):
    project: str
    category: str
    key: str
    value: str
    source: str = ""
    confidence: float = 1.0


class StateKeyBody(Body):
    project: str
    category: str
    key: str


# --------------------------------------------------------------- memory
class MemoryCreateBody(Body):
    memory_type: str
    content: str
    project: str | None = ""
    confidence: float = 1.0
    status: str = Field("active", description="active, or candidate to send it to the review queue")


class MemoryUpdateBody(Body):
    content: str | None = None
    confidence: float | None = None
    status: str | None = None


class MemorySupersedeBody(Body):
    content: str | None = Field(None, description="the new content (a new memory replaces the old one)")
    replacement_id: str | None = Field(None, description="or the id of an existing memory that replaces it")
    confidence: float | None = None


class ReviewEditBody(Body):
    content: str | None = None
    memory_type: str | None = None
    confidence: float | None = None


class ReviewMergeBody(Body):
    into_id: str
    content: str | None = None


class ReviewSupersedeBody(Body):
    old_id: str


# --------------------------------------------------------- interactions
class InteractionBody(Body):
    prompt: str
    response: str | None = ""
    response_summary: str | None = ""
    project: str | None = ""
    client: str | None = ""
    session_id: str | None = ""
    memories_used: list[str] | None = []
    chunks_used: list[str] | None = []
    context_pack: Any = None


class ExtractBody(Body):
    since: str | None = None
    project: str | None = None


# ---------------------------------------------------------------- graph
class EntityCreateBody(Body):
    project: str
    entity_type: str
    name: str
    description: str = ""
    confidence: float = 1.0
    source_refs: list[str] | None = None
    status: str = "candidate"


class EntityUpdateBody(Body):
    name: str | None = None
    description: str | None = None
    confidence: float | None = None
    source_refs: list[str] | None = None
    entity_type: str | None = None


class EntitySupersedeBody(Body):
    by: str | None = Field(None, description="the entity that replaces it (recorded as SUPERSEDES)")


class RelationshipBody(Body):
    source_id: str
    relationship_type: str
    target_id: str
    confidence: float = 1.0
    source_refs: list[str] | None = None


class ResolveBody(Body):
    action: str = Field(description="dismiss, supersede_others or no_action")
    winner: str | None = Field(None, description="the entity that stays (supersede_others)")
    winner_id: str | None = Field(None, description="the same as winner (either name is accepted)")

    @property
    def chosen(self) -> str | None:
        return self.winner if self.winner is not None else self.winner_id


class GraduateBody(Body):
    entity_type: str | None = None
    name: str | None = None
    description: str | None = None
    project: str | None = None
    confidence: float | None = None


# ---------------------------------------------------------------- admin
class BackupBody(Body):
    include_index: bool = Field(default=False, description="also copy the vector index")
    include_chroma: bool = Field(default=False, description="the original service's name for include_index")
    label: str | None = None


class LabelAliasBody(Body):
    project: str = Field(description="the registered project (id or alias) the label becomes an alias of")
