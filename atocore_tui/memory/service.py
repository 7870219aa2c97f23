"""Memories: typed statements the user trusts, with a full audit trail and undo.

:class:`MemoryService` (``engine.memories``) is the one way memories are
created, changed and read; the review queue, extraction, interactions and every
face go through it. Its rules:

* Types, statuses, confidence and content are validated by the
  ``validate_*`` functions of :mod:`.vocab` and nowhere else.
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

The pieces live beside it, one module per concern (as in ``graph/``):
:mod:`.vocab` (types, statuses, checks), :mod:`.records` (records, audit
entries, answers), :mod:`.duplicates` (duplicate scoring). Their public names
stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from peewee import SQL, fn

from ..errors import NotFound, ValidationError
from ..store.lookup import by_id_or_prefix
from ..store.models import Interaction, Memory, MemoryAudit, utc_now
from ..store.models import new_id as make_id
from . import reinforcement
from .duplicates import DUPLICATE_THRESHOLD, NUMBER_CONFLICT_CEILING, duplicate_score, numbers, rank_neighbours
from .records import (
    FIELDS,
    LINK_KEY,
    AuditEntry,
    LiveMemory,
    MemoryRecord,
    invalidated_answer,
    list_answer,
    snapshot,
    stored_answer,
    updated_answer,
)
from .vocab import (
    LIVE_STATUSES,
    MAX_CONTENT_CHARS,
    MAX_LIMIT,
    MAX_NEIGHBOURS,
    MEMORY_STATUSES,
    MEMORY_TYPES,
    NEW_STATUSES,
    MemoryStatus,
    MemoryType,
    require_live,
    require_status,
    validate_actor,
    validate_confidence,
    validate_content,
    validate_limit,
    validate_memory_type,
    validate_status,
)
from .vocab import new_status as _new_status

__all__ = [
    "BOOKKEEPING_ACTIONS", "DUPLICATE_THRESHOLD", "FIELDS", "LINK_KEY", "LIVE_STATUSES", "MAX_CONTENT_CHARS",
    "MAX_LIMIT", "MAX_NEIGHBOURS", "MEMORY_STATUSES", "MEMORY_TYPES", "NEW_STATUSES", "NUMBER_CONFLICT_CEILING",
    "AuditEntry", "LiveMemory", "MemoryRecord", "MemoryService", "MemoryStatus", "MemoryType", "duplicate_score",
    "invalidated_answer", "list_answer", "numbers", "rank_neighbours", "require_status", "snapshot",
    "stored_answer", "updated_answer", "validate_actor", "validate_confidence", "validate_content",
    "validate_limit", "validate_memory_type", "validate_status",
]

BOOKKEEPING_ACTIONS = ("reinforce",)
"""Actions that undo skips: they record use, not a decision."""
_require_live = require_live


class _OldNames:
    def list(self, *args: Any, **kwargs: Any) -> Any:
        """The old name of :meth:`MemoryService.list_memories`, kept for callers (faces, tests)."""
        return cast("MemoryService", self).list_memories(*args, **kwargs)


class MemoryService(_OldNames):
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

    def list_memories(self, memory_type: str | None = None, project: str | None = None, active_only: bool = True,
             min_confidence: float = 0.0, limit: int = 50, status: str | None = None) -> list[MemoryRecord]:
        """Memories, most recently changed first.

        ``project=None`` means any project, ``""`` only cross-project memories;
        ``status`` (when given) replaces the ``active_only`` filter.
        """
        query = self.list_query(memory_type, project, active_only, min_confidence, limit, status)
        return [MemoryRecord.from_row(row) for row in query]

    def list_query(self, memory_type: str | None, project: str | None, active_only: bool,
                   min_confidence: float, limit: int, status: str | None):
        """The query behind :meth:`list_memories` (validated arguments)."""
        query = Memory.select()
        if memory_type is not None:
            query = query.where(Memory.memory_type == validate_memory_type(memory_type))
        if project is not None:
            query = query.where(Memory.project == self.project_id(project))
        if status is not None:
            query = query.where(Memory.status == validate_status(status))
        elif active_only:
            query = query.where(Memory.status == MemoryStatus.ACTIVE)
        query = query.where(Memory.confidence >= validate_confidence(min_confidence))
        # Timestamps have whole seconds; the newest audit row orders changes within one.
        last_change = MemoryAudit.select(fn.MAX(MemoryAudit.id)).where(MemoryAudit.memory == Memory.id)
        query = query.order_by(Memory.updated_at.desc(), fn.COALESCE(last_change, 0).desc(), SQL("rowid").desc())
        return query.limit(validate_limit(limit))

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
               status: str = MemoryStatus.ACTIVE, source_interaction: str | None = None,
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
        fields: dict[str, Any] = {name: value for name, value in
                                  (("content", content), ("confidence", confidence), ("status", status))
                                  if value is not None}
        if not fields:
            raise ValidationError("nothing to update: give content, confidence or status")
        return self.change(memory_id, "update", actor=actor, **fields)

    def invalidate(self, memory_id: str, actor: str = "user") -> MemoryRecord:
        """Mark a memory wrong (error correction). Invalidating twice is a no-op."""
        row = self.row(memory_id)
        if row.status == MemoryStatus.INVALID:
            validate_actor(actor)
            return MemoryRecord.from_row(row)
        return self.change(row.id, "invalidate", actor=actor, status=MemoryStatus.INVALID)

    def change(self, memory_id: str, action: str, *, actor: str = "user",
               allowed_statuses: Sequence[str] | None = None, **fields: Any) -> MemoryRecord:
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
        if old.status != MemoryStatus.ACTIVE:
            raise ValidationError(f"only an active memory can be superseded; {old.id} is {old.status}")
        replacement = None
        if replacement_id is not None:
            replacement = self.row(replacement_id)
            if replacement.id == old.id:
                raise ValidationError("a memory cannot supersede itself")
            _require_live(replacement, "supersede with")
        else:
            values = {"memory_type": old.memory_type, "content": validate_content(new_content),
                      "project": old.project, "status": MemoryStatus.ACTIVE.value, "source_interaction": None,
                      "confidence": old.confidence if confidence is None else validate_confidence(confidence)}
        op = make_id()
        with self.engine.db.atomic():
            new_link = {"op": op, "partner": old.id, "role": "supersedes"}
            if replacement is None:
                replacement = self._insert(values, actor, new_link)
            else:
                self._write(replacement, "supersede", actor, new_link, {"status": MemoryStatus.ACTIVE.value})
            self._write(old, "supersede", actor, {"op": op, "partner": replacement.id, "role": "superseded_by"},
                        {"status": MemoryStatus.SUPERSEDED.value})
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
        changes: dict[str, Any] = {"confidence": max(source.confidence, target.confidence)}
        if content is not None:
            changes["content"] = validate_content(content)
        op = make_id()
        with self.engine.db.atomic():
            self._write(source, "merge", actor, {"op": op, "partner": target.id, "role": "merged_into"},
                        {"status": MemoryStatus.SUPERSEDED.value})
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
        query = Memory.select(Memory.id, Memory.content).where(Memory.status == MemoryStatus.ACTIVE)
        if not reinforcement.may_repeat(response_text or ""):
            if not listed:
                return []
            query = query.where(Memory.id.in_(listed))  # only the listed ones can count
        elif project is not None:
            scope = self.project_id(project)
            query = query.where((Memory.project == scope) | (Memory.project == "") |
                                (Memory.id.in_(listed)))
        # both columns are text: the rows as SQLite gives them (Peewee's per-value
        # conversion took two thirds of a record's time at 9,000 memories)
        active = cast(list[tuple[str, str]],
                      self.engine.db.execute(query.order_by(Memory.created_at, SQL("rowid"))).fetchall())
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
        records = self.records([memory_id for memory_id, _ in ranked])
        return list(zip(records, (score for _, score in ranked), strict=False))

    def live_pool(self, project: str | None = None) -> list[LiveMemory]:
        """Active and candidate memories (of a project and cross-project ones),
        oldest first, as light tuples: building thousands of model objects per
        query would cost more than the similarity itself."""
        query = Memory.select(Memory.id, Memory.content, Memory.project, Memory.status).where(
            Memory.status.in_(LIVE_STATUSES))
        if project is not None:
            scope = self.project_id(project)
            query = query.where((Memory.project == scope) | (Memory.project == ""))
        rows: Iterable[Any] = query.order_by(Memory.created_at, SQL("rowid")).tuples()
        return [LiveMemory(*values) for values in rows]

    def records(self, memory_ids: Sequence[str]) -> list[MemoryRecord]:
        """Records for known ids, in the order given."""
        rows = {row.id: row for row in Memory.select().where(Memory.id.in_(list(memory_ids)))}
        return [MemoryRecord.from_row(rows[memory_id]) for memory_id in memory_ids if memory_id in rows]

    # ------------------------------------------------------------- internals
    def _validated(self, fields: dict) -> dict:
        checks: dict[str, Callable[[Any], Any]] = {
            "content": validate_content, "confidence": validate_confidence, "status": validate_status,
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
            changes = {"status": MemoryStatus.INVALID.value}
        else:
            changes = {name: target.before[name] for name in FIELDS
                       if target.before.get(name) != (target.after or {}).get(name)}
        self._write(row, "undo", actor, {"op": op, "undoes": target.id, "action": target.action}, changes)


# ------------------------------------------------------------------ helpers
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


def _interaction_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or Interaction.get_or_none(Interaction.id == value.strip()) is None:
        raise NotFound(f"unknown interaction: {value}")
    return value.strip()
