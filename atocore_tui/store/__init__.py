"""The store: the database, its models and migrations, and the only SQL."""

from .db import (
    DB_FILENAME,
    SCHEMA_VERSION,
    bump_counter,
    get_meta,
    integrity_check,
    open_database,
    set_meta,
    write_cache,
)
from .models import (
    MODELS,
    Alert,
    Chunk,
    Conflict,
    ConflictMember,
    Document,
    Entity,
    EntityAudit,
    Interaction,
    Memory,
    MemoryAudit,
    Project,
    ProjectAlias,
    ProjectState,
    Relationship,
    utc_now,
)

__all__ = [
    "DB_FILENAME", "SCHEMA_VERSION", "MODELS", "Alert", "Chunk", "Conflict", "ConflictMember",
    "Document", "Entity", "EntityAudit", "Interaction", "Memory", "MemoryAudit", "Project",
    "ProjectAlias", "ProjectState", "Relationship", "bump_counter", "get_meta", "integrity_check",
    "open_database", "set_meta", "utc_now", "write_cache",
]
