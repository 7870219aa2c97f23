"""Memories: typed statements the user trusts, with a full audit trail and undo.

:class:`MemoryService` (``engine.memories``) is the one way memories are
created, changed and read; the review queue, extraction, interactions and every
face go through it. Its rules:

* Types, statuses, confidence and content are validated by the four
  ``validate_*`` functions below and nowhere else.
* Every change writes a :class:`~atocore_tui.store.models.MemoryAudit` row
  (before/after snapshots of the memory's fields, actor, time) in the same
  transaction as the change; nothing is written when input is refused.
* Memories are never deleted: invalidating, superseding, rejecting and undoing
  a creation all change the status, so the audit trail stays complete.
* Operations that change two memories at once (supersede, merge) link their
  two audit rows with an operation id, and undo reverts both sides together.

Undo (:meth:`MemoryService.undo`) is a per-memory undo *stack*: it reverts the
newest action that has not been undone yet, so undoing twice walks two steps
back (it does not redo). It restores the fields that action changed to their
values before it; undoing a creation retires the memory (status ``invalid``).
Reinforcement is the engine's bookkeeping, not a decision, so undo neither
reverts it nor counts it as a step: a reference gained in between is kept.
"""

from __future__ import annotations

from functools import lru_cache
from dataclasses import asdict, dataclass
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np
from peewee import SQL, fn

from ..validation import confidence as validate_confidence
from ..errors import NotFound, ValidationError
from ..store.lookup import by_id_or_prefix
from ..store.models import Interaction, Memory, MemoryAudit, utc_now
from ..store.models import new_id as make_id
from . import reinforcement

MEMORY_TYPES = ("identity", "preference", "project", "knowledge", "episodic", "adaptation")
MEMORY_STATUSES = ("candidate", "active", "superseded", "invalid", "graduated")
NEW_STATUSES = ("active", "candidate")
"""A memory is born trusted (``active``) or waiting for review (``candidate``)."""
LIVE_STATUSES = ("active", "candidate")
"""Memories that can still be duplicated, merged or superseded."""

MAX_CONTENT_CHARS = 10_000
"""A memory is a statement, not a document; longer text belongs in the vault."""
MAX_LIMIT = 500
MAX_NEIGHBOURS = 50
"""Faces may name a memory by a unique id prefix of at least this many characters."""

DUPLICATE_THRESHOLD = 0.75
"""Duplicate score (below) at or above which a memory is flagged as a likely
duplicate. Measured with ``bench/memory_duplicates.py`` (bundled model2vec
model) on 40 paraphrase pairs and 42 related-but-different pairs from the
sample vault's domain (Orion drive unit, CP-200 cold plate, preferences):
precision 0.97, recall 0.78 (31 of 40 found, 1 false flag). Precision is worth
more than recall: a false flag invites a merge of two different facts and makes
extraction drop a new one, while a missed duplicate is still shown as the
nearest memory with its score. Below 0.75 numberless related pairs ("planetary
gearbox" vs "PFPE grease for the gearbox", 0.73) start to be flagged; from
0.80 up recall falls to 0.65 and below. A query over 5,000 memories takes
about 20 ms once their vectors are cached (320 ms to embed them the first time)."""
NUMBER_CONFLICT_CEILING = 0.70
"""Static embeddings barely see numbers: "stage 1 ratio is 8:1" and "stage 2
ratio is 6:1" score 1.00, and on the bench set plain cosine reaches only
0.70-0.79 precision at any threshold (0.74 at 0.75). When two statements
carry numbers or identifiers (tokens with a digit) and neither set contains
the other, they state different values, so their duplicate score is capped
here, below the threshold: still a near neighbour (perhaps one to supersede),
never a duplicate."""

FIELDS = ("memory_type", "content", "project", "confidence", "status", "reference_count",
          "last_referenced_at", "source_interaction", "graduated_to_entity")
"""The memory fields an audit row snapshots (timestamps are the row's own)."""
LINK_KEY = "_link"
"""Key inside an audit row's ``after`` JSON holding its link (operation id,
partner memory, role); :class:`AuditEntry` lifts it out into ``link``."""
BOOKKEEPING_ACTIONS = ("reinforce",)
"""Actions that undo skips: they record use, not a decision."""


# ------------------------------------------------------------------ validation
def validate_memory_type(value: Any) -> str:
    """The one check of a memory type; returns it normalised (lowercase)."""
    name = value.strip().lower() if isinstance(value, str) else None
    if name not in MEMORY_TYPES:
        raise ValidationError(f"unknown memory type {value!r}: use one of {', '.join(MEMORY_TYPES)}")
    return name


def validate_status(value: Any) -> str:
    """The one check of a memory status; returns it normalised (lowercase)."""
    name = value.strip().lower() if isinstance(value, str) else None
    if name not in MEMORY_STATUSES:
        raise ValidationError(f"unknown memory status {value!r}: use one of {', '.join(MEMORY_STATUSES)}")
    return name


def validate_content(value: Any) -> str:
    """The one check of a memory's content: non-blank text of bounded size, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("memory content must not be blank")
    text = value.strip()
    if len(text) > MAX_CONTENT_CHARS:
        raise ValidationError(f"memory content is {len(text)} characters; the limit is {MAX_CONTENT_CHARS}")
    return text


def validate_limit(value: Any, maximum: int = MAX_LIMIT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValidationError(f"limit must be a whole number from 1 to {maximum}, got {value!r}")
    return value


def validate_actor(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("actor must not be blank")
    return value.strip()


# ------------------------------------------------------------------ records
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
        return cls(id=row.id, memory_id=row.memory_id, action=row.action, before=row.before,
                   after=after, actor=row.actor, at=row.at, link=link)

    def to_dict(self) -> dict:
        return asdict(self)


# SPEC §3 answers, built in one place so that every face says the same.
def stored_answer(record: MemoryRecord) -> dict:
    return {"status": "stored", "id": record.id, "memory_type": record.memory_type}


def updated_answer(record: MemoryRecord) -> dict:
    return {"status": "updated", "id": record.id}


def invalidated_answer(record: MemoryRecord) -> dict:
    return {"status": "invalidated", "id": record.id}


def list_answer(records: Iterable[MemoryRecord]) -> dict:
    return {"memories": [r.to_dict() for r in records], "types": list(MEMORY_TYPES)}


@lru_cache(maxsize=16_384)
def numbers(text: str) -> frozenset[str]:
    """Numbers and identifiers in a statement: its tokens that contain a digit."""
    return frozenset(t for t in reinforcement.tokens(text) if any(c.isdigit() for c in t))


def duplicate_score(similarity: float, text: str, other: str) -> float:
    """Cosine similarity, capped at :data:`NUMBER_CONFLICT_CEILING` when the two
    texts state different numbers (see there). Compare with DUPLICATE_THRESHOLD."""
    mine, theirs = numbers(text), numbers(other)
    if mine <= theirs or theirs <= mine:
        return similarity
    return min(similarity, NUMBER_CONFLICT_CEILING)


def snapshot(row: Memory) -> dict:
    return {name: getattr(row, name) for name in FIELDS}


class LiveMemory(NamedTuple):
    """What similarity needs of an active or candidate memory."""

    id: str
    content: str
    project: str
    status: str


# ------------------------------------------------------------------ service
class MemoryService:
    """``engine.memories``: create, read, change, audit and undo memories."""

    def __init__(self, engine):
        self.engine = engine
        self.vectors = engine.text_vectors

    # ------------------------------------------------------------- reading
    def get(self, memory_id: str) -> MemoryRecord:
        return MemoryRecord.from_row(self.row(memory_id))

    def row(self, memory_id: Any) -> Memory:
        """The memory row for an id or a unique id prefix; NotFound otherwise."""
        return by_id_or_prefix(Memory, memory_id, "memory")

    def list(self, memory_type: str | None = None, project: str | None = None, active_only: bool = True,
             min_confidence: float = 0.0, limit: int = 50, status: str | None = None) -> list[MemoryRecord]:
        """Memories, most recently changed first.

        ``project=None`` means any project, ``""`` only cross-project memories;
        ``status`` (when given) replaces the ``active_only`` filter.
        """
        query = Memory.select()
        if memory_type is not None:
            query = query.where(Memory.memory_type == validate_memory_type(memory_type))
        if project is not None:
            query = query.where(Memory.project == self.project_id(project))
        if status is not None:
            query = query.where(Memory.status == validate_status(status))
        elif active_only:
            query = query.where(Memory.status == "active")
        query = query.where(Memory.confidence >= validate_confidence(min_confidence))
        # Timestamps have whole seconds; the newest audit row orders changes within one.
        last_change = MemoryAudit.select(fn.MAX(MemoryAudit.id)).where(MemoryAudit.memory == Memory.id)
        query = query.order_by(Memory.updated_at.desc(), fn.COALESCE(last_change, 0).desc(), SQL("rowid").desc())
        query = query.limit(validate_limit(limit))
        return [MemoryRecord.from_row(row) for row in query]

    def audit(self, memory_id: str) -> list[AuditEntry]:
        """The memory's audit trail, oldest first."""
        row = self.row(memory_id)
        query = MemoryAudit.select().where(MemoryAudit.memory == row.id).order_by(MemoryAudit.id)
        return [AuditEntry.from_row(entry) for entry in query]

    def project_id(self, name: Any, new_label: bool = False) -> str:
        """Alias or id -> canonical project id; blank -> ``""`` (cross-project).
        ``new_label`` keeps an unknown name as a label (see Engine.resolve_project)."""
        if name is not None and not isinstance(name, str):
            raise ValidationError(f"project must be text, got {name!r}")
        return self.engine.resolve_project(name, new_label=new_label) or ""

    # ------------------------------------------------------------- writing
    def create(self, memory_type: str, content: str, project: str = "", confidence: float = 1.0,
               status: str = "active", source_interaction: str | None = None,
               actor: str = "user", new_label: bool = False) -> MemoryRecord:
        values = {
            "memory_type": validate_memory_type(memory_type),
            "content": validate_content(content),
            "confidence": validate_confidence(confidence),
            "status": _new_status(status),
            "project": self.project_id(project, new_label),
            "source_interaction": _interaction_id(source_interaction),
        }
        actor = validate_actor(actor)
        with self.engine.db.atomic():
            row = self._insert(values, actor)
        return MemoryRecord.from_row(row)

    def update(self, memory_id: str, content: str | None = None, confidence: float | None = None,
               status: str | None = None, actor: str = "user") -> MemoryRecord:
        fields = {name: value for name, value in
                  (("content", content), ("confidence", confidence), ("status", status)) if value is not None}
        if not fields:
            raise ValidationError("nothing to update: give content, confidence or status")
        return self.change(memory_id, "update", actor=actor, **fields)

    def invalidate(self, memory_id: str, actor: str = "user") -> MemoryRecord:
        """Mark a memory wrong (error correction). Invalidating twice is a no-op."""
        row = self.row(memory_id)
        if row.status == "invalid":
            validate_actor(actor)
            return MemoryRecord.from_row(row)
        return self.change(row.id, "invalidate", actor=actor, status="invalid")

    def change(self, memory_id: str, action: str, *, actor: str = "user",
               allowed_statuses: Sequence[str] | None = None, **fields) -> MemoryRecord:
        """Validate and apply field changes to one memory as one audited action.

        The primitive behind update, invalidate and the review queue's
        promote/reject/edit. ``allowed_statuses`` refuses memories in any other
        status. Fields equal to their current value are not rewritten; when
        nothing would change, nothing is written.
        """
        row = self.row(memory_id)
        actor = validate_actor(actor)
        changes = self._validated(fields)
        if allowed_statuses is not None:
            require_status(row, allowed_statuses, action)
        changes = {name: value for name, value in changes.items() if getattr(row, name) != value}
        if not changes:
            return MemoryRecord.from_row(row)
        with self.engine.db.atomic():
            self._write(row, action, actor, None, changes)
        return MemoryRecord.from_row(row)

    def supersede(self, old_id: str, new_content: str | None = None, actor: str = "user", *,
                  replacement_id: str | None = None, confidence: float | None = None) -> MemoryRecord:
        """Replace an active memory by new content or by another memory.

        With ``new_content`` a new active memory of the same type and project
        is created (confidence as given, else the old one's). With
        ``replacement_id`` that memory (active or candidate) becomes active.
        The old memory becomes ``superseded``. Returns the replacement.
        """
        old = self.row(old_id)
        actor = validate_actor(actor)
        if (new_content is None) == (replacement_id is None):
            raise ValidationError("give either the new content or the id of the replacing memory")
        if old.status != "active":
            raise ValidationError(f"only an active memory can be superseded; {old.id} is {old.status}")
        replacement = None
        if replacement_id is not None:
            replacement = self.row(replacement_id)
            if replacement.id == old.id:
                raise ValidationError("a memory cannot supersede itself")
            _require_live(replacement, "supersede with")
        else:
            values = {"memory_type": old.memory_type, "content": validate_content(new_content),
                      "project": old.project, "status": "active", "source_interaction": None,
                      "confidence": old.confidence if confidence is None else validate_confidence(confidence)}
        op = make_id()
        with self.engine.db.atomic():
            new_link = {"op": op, "partner": old.id, "role": "supersedes"}
            if replacement is None:
                replacement = self._insert(values, actor, new_link)
            else:
                self._write(replacement, "supersede", actor, new_link, {"status": "active"})
            self._write(old, "supersede", actor, {"op": op, "partner": replacement.id, "role": "superseded_by"},
                        {"status": "superseded"})
        return MemoryRecord.from_row(replacement)

    def merge(self, source_id: str, into_id: str, content: str | None = None,
              actor: str = "user") -> MemoryRecord:
        """Fold one memory into another: the target keeps (or takes the given)
        content and the higher confidence; the source becomes ``superseded``.
        Returns the target."""
        source, target = self.row(source_id), self.row(into_id)
        actor = validate_actor(actor)
        if source.id == target.id:
            raise ValidationError("a memory cannot be merged into itself")
        _require_live(source, "merge")
        _require_live(target, "merge into")
        changes = {"confidence": max(source.confidence, target.confidence)}
        if content is not None:
            changes["content"] = validate_content(content)
        op = make_id()
        with self.engine.db.atomic():
            self._write(source, "merge", actor, {"op": op, "partner": target.id, "role": "merged_into"},
                        {"status": "superseded"})
            self._write(target, "merge", actor, {"op": op, "partner": source.id, "role": "absorbed"}, changes)
        return MemoryRecord.from_row(target)

    def undo(self, memory_id: str, actor: str = "user") -> MemoryRecord:
        """Revert the newest not-yet-undone action on a memory (see the module doc).

        A two-memory action is reverted on both memories, provided the other
        memory has not changed since (otherwise: undo that change first).
        """
        row = self.row(memory_id)
        actor = validate_actor(actor)
        target = _undo_target(row.id)
        if target is None:
            raise ValidationError(f"nothing to undo on memory {row.id}")
        pair: tuple[Memory, AuditEntry] | None = None
        link = target.link or {}
        if link.get("partner"):
            partner = self.row(link["partner"])
            partner_target = _undo_target(partner.id)
            if partner_target is None or (partner_target.link or {}).get("op") != link.get("op"):
                raise ValidationError(
                    f"cannot undo {target.action} on memory {row.id}: memory {partner.id} changed since; "
                    "undo that change first")
            pair = (partner, partner_target)
        op = make_id()
        with self.engine.db.atomic():
            self._revert(row, target, actor, op)
            if pair is not None:
                self._revert(*pair, actor, op)
        return MemoryRecord.from_row(row)

    def reinforce(self, memory_ids: Iterable[str] | None, response_text: str | None,
                  actor: str = "reinforcement", project: str | None = None) -> list[str]:
        """Reinforce the active memories a response used (rules in
        :mod:`atocore_tui.memory.reinforcement`); returns their ids.

        ``project`` limits the overlap match to that project's and
        cross-project memories; listed ids count whatever their project.
        Ids that are unknown or not active are ignored (never an error: the
        interaction that lists them is already recorded).
        """
        actor = validate_actor(actor)
        listed = [str(i) for i in (memory_ids or []) if isinstance(i, str) and i.strip()]
        query = Memory.select(Memory.id, Memory.content).where(Memory.status == "active")
        if project is not None:
            scope = self.project_id(project)
            query = query.where((Memory.project == scope) | (Memory.project == "") |
                                (Memory.id.in_(listed)))
        active = list(query.order_by(Memory.created_at, SQL("rowid")).tuples())
        chosen = reinforcement.used_memories(active, listed, response_text or "")
        if not chosen:
            return []
        with self.engine.db.atomic():
            now = utc_now()
            rows = {row.id: row for row in Memory.select().where(Memory.id.in_(chosen))}
            for row in (rows[memory_id] for memory_id in chosen):
                self._write(row, "reinforce", actor, None, {
                    "reference_count": row.reference_count + 1,
                    "last_referenced_at": now,
                    "confidence": reinforcement.nudged(row.confidence),
                })
        return chosen

    # ------------------------------------------------------------- similarity
    def near_duplicates(self, content: str, project: str | None = None, limit: int = 5,
                        exclude_id: str | None = None) -> list[tuple[MemoryRecord, float]]:
        """Active and candidate memories most similar to ``content``, best first.

        With a project: that project's memories and cross-project ones.
        Scores are :func:`duplicate_score` values; ``score >= DUPLICATE_THRESHOLD``
        means "likely duplicate".
        """
        text = validate_content(content)
        limit = validate_limit(limit, MAX_NEIGHBOURS)
        pool = self.live_pool(project)
        if not pool:
            return []
        similarities = (self.vectors.matrix("memory/live", [(m.id, m.content) for m in pool])
                        @ self.vectors.encode(text))
        ranked = rank_neighbours(text, pool, similarities, limit, exclude={exclude_id} if exclude_id else set())
        return list(zip(self.records([memory_id for memory_id, _ in ranked]), (score for _, score in ranked)))

    def live_pool(self, project: str | None = None) -> list[LiveMemory]:
        """Active and candidate memories (of a project and cross-project ones),
        oldest first, as light tuples: building thousands of model objects per
        query would cost more than the similarity itself."""
        query = Memory.select(Memory.id, Memory.content, Memory.project, Memory.status).where(
            Memory.status.in_(LIVE_STATUSES))
        if project is not None:
            scope = self.project_id(project)
            query = query.where((Memory.project == scope) | (Memory.project == ""))
        return [LiveMemory(*values) for values in query.order_by(Memory.created_at, SQL("rowid")).tuples()]

    def records(self, memory_ids: Sequence[str]) -> list[MemoryRecord]:
        """Records for known ids, in the order given."""
        rows = {row.id: row for row in Memory.select().where(Memory.id.in_(list(memory_ids)))}
        return [MemoryRecord.from_row(rows[memory_id]) for memory_id in memory_ids if memory_id in rows]

    # ------------------------------------------------------------- internals
    def _validated(self, fields: dict) -> dict:
        checks = {"content": validate_content, "confidence": validate_confidence, "status": validate_status,
                  "memory_type": validate_memory_type, "project": self.project_id}
        unknown = sorted(set(fields) - set(checks))
        if unknown:
            raise ValidationError(f"cannot change memory field(s): {', '.join(unknown)}")
        return {name: checks[name](value) for name, value in fields.items()}

    def _insert(self, values: dict, actor: str, link: dict | None = None) -> Memory:
        """Create a memory and its ``create`` audit row (inside a transaction)."""
        now = utc_now()
        row = Memory.create(**values, reference_count=0, created_at=now, updated_at=now)
        _record(row, "create", None, actor, link)
        return row

    def _write(self, row: Memory, action: str, actor: str, link: dict | None, changes: dict) -> None:
        """Apply changes and record the audit row (inside a transaction)."""
        before = snapshot(row)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = utc_now()
        row.save()
        _record(row, action, before, actor, link)

    def _revert(self, row: Memory, target: AuditEntry, actor: str, op: str) -> None:
        if target.before is None:
            changes = {"status": "invalid"}
        else:
            changes = {name: target.before[name] for name in FIELDS
                       if target.before.get(name) != (target.after or {}).get(name)}
        self._write(row, "undo", actor, {"op": op, "undoes": target.id, "action": target.action}, changes)


# ------------------------------------------------------------------ helpers
def rank_neighbours(text: str, pool: Sequence[LiveMemory], similarities: np.ndarray, limit: int,
                    exclude: set[str]) -> list[tuple[str, float]]:
    """Ids and rounded duplicate scores of the ``limit`` pool members closest
    to ``text`` (ties: older first). Only similarities above the
    number-conflict ceiling can be capped, so only those texts are tokenised.
    A similarity of ``-inf`` marks a member that is out of scope."""
    scores = np.round(similarities.astype(np.float64), 4)
    for i in np.flatnonzero(scores > NUMBER_CONFLICT_CEILING):
        scores[i] = round(duplicate_score(float(scores[i]), text, pool[i].content), 4)
    picked: list[tuple[str, float]] = []
    for i in np.lexsort((np.arange(len(pool)), -scores)):
        if len(picked) == limit or not np.isfinite(scores[i]):
            break
        if pool[i].id not in exclude:
            picked.append((pool[i].id, float(scores[i])))
    return picked


def _record(row: Memory, action: str, before: dict | None, actor: str, link: dict | None) -> None:
    after = snapshot(row)
    if link:
        after[LINK_KEY] = link
    MemoryAudit.create(memory=row.id, action=action, before=before, after=after, actor=actor,
                       at=row.updated_at)


def _undo_target(memory_id: str) -> AuditEntry | None:
    """The newest action on a memory that no later ``undo`` row has reverted."""
    pending = 0
    query = MemoryAudit.select().where(MemoryAudit.memory == memory_id).order_by(MemoryAudit.id.desc())
    for row in query:
        if row.action in BOOKKEEPING_ACTIONS:
            continue
        if row.action == "undo":
            pending += 1
        elif pending:
            pending -= 1
        else:
            return AuditEntry.from_row(row)
    return None


def _new_status(value: Any) -> str:
    status = validate_status(value)
    if status not in NEW_STATUSES:
        raise ValidationError(f"a new memory is active or candidate, not {status}")
    return status


def _interaction_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or Interaction.get_or_none(Interaction.id == value.strip()) is None:
        raise NotFound(f"unknown interaction: {value}")
    return value.strip()


def require_status(row: Memory, allowed: Sequence[str], verb: str) -> None:
    """Refuse an action on a memory whose status does not allow it."""
    if row.status not in allowed:
        raise ValidationError(f"cannot {verb.replace('_', ' ')} memory {row.id}: it is {row.status}, "
                              f"not {' or '.join(allowed)}")


def _require_live(row: Memory, verb: str) -> None:
    require_status(row, LIVE_STATUSES, verb)
