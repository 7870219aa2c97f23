"""What the memory service hands out: records, audit entries and the SPEC §3
answers every face returns (built here so that every face says the same)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple

from ..store.models import Memory, MemoryAudit
from .vocab import MEMORY_TYPES

FIELDS = ("memory_type", "content", "project", "confidence", "status", "reference_count",
          "last_referenced_at", "source_interaction", "graduated_to_entity")
"""The memory fields an audit row snapshots (timestamps are the row's own)."""
LINK_KEY = "_link"
"""Key inside an audit row's ``after`` JSON holding its link (operation id,
partner memory, role); :class:`AuditEntry` lifts it out into ``link``."""


@dataclass(frozen=True)
class MemoryRecord:
    id: str
    memory_type: str
    content: str
    project: str
    confidence: float
    status: str
    reference_count: int
    last_referenced_at: str | None
    source_interaction: str | None
    graduated_to_entity: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Memory) -> MemoryRecord:
        return cls(id=row.id, memory_type=row.memory_type, content=row.content, project=row.project,
                   confidence=row.confidence, status=row.status, reference_count=row.reference_count,
                   last_referenced_at=row.last_referenced_at, source_interaction=row.source_interaction,
                   graduated_to_entity=row.graduated_to_entity, created_at=row.created_at,
                   updated_at=row.updated_at)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AuditEntry:
    """One change of one memory. ``before`` is ``None`` for a creation;
    ``link`` ties the two rows of a two-memory operation (and undo rows to
    what they undid)."""

    id: int
    memory_id: str
    action: str
    before: dict | None
    after: dict | None
    actor: str
    at: str
    link: dict | None = None

    @classmethod
    def from_row(cls, row: MemoryAudit) -> AuditEntry:
        after = dict(row.after) if row.after is not None else None
        link = after.pop(LINK_KEY, None) if after is not None else None
        memory_id = row.memory_id
        return cls(id=row.id, memory_id=memory_id, action=row.action, before=row.before,
                   after=after, actor=row.actor, at=row.at, link=link)

    def to_dict(self) -> dict:
        return asdict(self)


class LiveMemory(NamedTuple):
    """What similarity needs of an active or candidate memory."""

    id: str
    content: str
    project: str
    status: str


def snapshot(row: Memory) -> dict:
    return {name: getattr(row, name) for name in FIELDS}


# SPEC §3 answers.
def stored_answer(record: MemoryRecord) -> dict:
    return {"status": "stored", "id": record.id, "memory_type": record.memory_type}


def updated_answer(record: MemoryRecord) -> dict:
    return {"status": "updated", "id": record.id}


def invalidated_answer(record: MemoryRecord) -> dict:
    return {"status": "invalidated", "id": record.id}


def list_answer(records: Iterable[MemoryRecord]) -> dict:
    return {"memories": [r.to_dict() for r in records], "types": list(MEMORY_TYPES)}
