"""Peewee models for every entity of the product (SPEC §1).

The models are declared unbound; :func:`atocore_tui.store.db.open_database`
binds them to one data directory's database. Timestamps are stored as
``YYYY-MM-DD HH:MM:SS`` UTC text everywhere, so that string comparison is time
comparison (``since`` filters rely on it).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def utc_now() -> str:
    """The current time in the one timestamp shape the store uses."""
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def new_id() -> str:
    return uuid.uuid4().hex


class JSONField(TextField):
    """JSON text; lists and dicts round-trip, ``None`` stays NULL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the store itself (schema version, chunk version)."""

    key = CharField(primary_key=True)
    value = TextField()


class Project(BaseModel):
    id = CharField(primary_key=True)
    description = TextField(default="")
    ingest_roots = JSONField(default=list)
    created_at = CharField(default=utc_now)
    updated_at = CharField(default=utc_now)
    last_refreshed_at = CharField(null=True)


class ProjectAlias(BaseModel):
    """An alias names exactly one project: the primary key enforces it."""

    alias = CharField(primary_key=True)
    project = ForeignKeyField(Project, backref="alias_rows", on_delete="CASCADE")


class Document(BaseModel):
    id = AutoField()
    source = CharField()
    path = CharField()
    project = CharField(default="", index=True)
    front_matter_project = CharField(default="")
    """The project the note names itself (as written), "" if none."""
    title = TextField(default="")
    tags = JSONField(default=list)
    content_hash = CharField()
    size = IntegerField()
    mtime = FloatField()
    ingested_at = CharField(default=utc_now)
    warnings = JSONField(default=list)

    class Meta:
        indexes = ((("source", "path"), True),)


class Chunk(BaseModel):
    """A retrievable piece of a document.

    ``key`` is the integer form of ``chunk_id`` (a hash of where the chunk sits
    in its document): it is the row id the FTS5 table points at and the key of
    the chunk's vector in the usearch index, so all three agree by
    construction.
    """

    key = BigIntegerField(primary_key=True)
    chunk_id = CharField(unique=True)
    document = ForeignKeyField(Document, backref="chunks", on_delete="CASCADE")
    ordinal = IntegerField()
    heading_path = TextField(default="")
    title = TextField(default="")
    content = TextField()
    tags = JSONField(default=list)
    content_hash = CharField()
    char_start = IntegerField()
    char_end = IntegerField()
    line_start = IntegerField()
    line_end = IntegerField()


class Memory(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    memory_type = CharField(index=True)
    content = TextField()
    project = CharField(default="", index=True)
    confidence = FloatField(default=1.0)
    status = CharField(default="active", index=True)
    reference_count = IntegerField(default=0)
    last_referenced_at = CharField(null=True)
    source_interaction = CharField(null=True)
    graduated_to_entity = CharField(null=True)
    created_at = CharField(default=utc_now)
    updated_at = CharField(default=utc_now)


class MemoryAudit(BaseModel):
    id = AutoField()
    memory = ForeignKeyField(Memory, backref="audit", on_delete="CASCADE")
    action = CharField()
    before = JSONField(null=True)
    after = JSONField(null=True)
    actor = CharField(default="user")
    at = CharField(default=utc_now)


class ProjectState(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    project = CharField(index=True)
    category = CharField()
    key = CharField()
    value = TextField()
    source = TextField(default="")
    confidence = FloatField(default=1.0)
    status = CharField(default="active")
    created_at = CharField(default=utc_now)
    updated_at = CharField(default=utc_now)


class Interaction(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    prompt = TextField()
    response = TextField(default="")
    response_summary = TextField(default="")
    project = CharField(default="", index=True)
    client = CharField(default="", index=True)
    session_id = CharField(default="", index=True)
    memories_used = JSONField(default=list)
    chunks_used = JSONField(default=list)
    context_pack = JSONField(null=True)
    created_at = CharField(default=utc_now, index=True)


class Entity(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    project = CharField(index=True)
    entity_type = CharField(index=True)
    name = TextField()
    description = TextField(default="")
    status = CharField(default="candidate", index=True)
    confidence = FloatField(default=1.0)
    source_refs = JSONField(default=list)
    created_at = CharField(default=utc_now)
    updated_at = CharField(default=utc_now)


class Relationship(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    source = ForeignKeyField(Entity, backref="outgoing", on_delete="CASCADE")
    target = ForeignKeyField(Entity, backref="incoming", on_delete="CASCADE")
    relationship_type = CharField(index=True)
    confidence = FloatField(default=1.0)
    source_refs = JSONField(default=list)
    created_at = CharField(default=utc_now)


class EntityAudit(BaseModel):
    id = AutoField()
    entity = ForeignKeyField(Entity, backref="audit", on_delete="CASCADE")
    action = CharField()
    before = JSONField(null=True)
    after = JSONField(null=True)
    actor = CharField(default="user")
    at = CharField(default=utc_now, index=True)


class Conflict(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    slot_kind = CharField()
    slot_key = CharField()
    project = CharField(default="", index=True)
    status = CharField(default="open", index=True)
    resolution = TextField(null=True)
    created_at = CharField(default=utc_now)
    resolved_at = CharField(null=True)

    class Meta:
        indexes = ((("slot_kind", "slot_key"), False),)


class ConflictMember(BaseModel):
    id = AutoField()
    conflict = ForeignKeyField(Conflict, backref="members", on_delete="CASCADE")
    entity = ForeignKeyField(Entity, backref="conflict_memberships", on_delete="CASCADE")
    note = TextField(default="")


class Alert(BaseModel):
    id = AutoField()
    level = CharField(default="warning")
    title = TextField()
    message = TextField(default="")
    source = CharField(default="")
    created_at = CharField(default=utc_now)
    acknowledged = BooleanField(default=False)


MODELS: list[type[BaseModel]] = [
    Meta,
    Project,
    ProjectAlias,
    Document,
    Chunk,
    Memory,
    MemoryAudit,
    ProjectState,
    Interaction,
    Entity,
    Relationship,
    EntityAudit,
    Conflict,
    ConflictMember,
    Alert,
]
