"""Where entities stand in conflicts: read-only, for whoever must choose among them.

An entity is *contested* while an open conflict holds it as a member or is
about it (the component of a material slot, the child of a parent slot), and
it *lost* a conflict that was resolved with ``supersede_others`` and another
winner (the loser's assignment was removed, but a losing material stays active:
it may be right elsewhere). The context builder uses this to keep what is
decided ahead of what is disputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..store.models import Conflict, ConflictMember, Entity, Relationship
from .conflicts import DUPLICATE, MATERIAL, PARENT


@dataclass
class Standing:
    open: list[str] = field(default_factory=list)
    """Ids of the open conflicts the entity is in or is the subject of, sorted."""
    lost: list[str] = field(default_factory=list)
    """Ids of the resolved conflicts in which another member was chosen, sorted."""


def standing(entity_ids: Iterable[str]) -> dict[str, Standing]:
    """Per entity id asked about (absent ids get an empty standing)."""
    ids = sorted({str(i) for i in entity_ids})
    result = {eid: Standing() for eid in ids}
    if not ids:
        return result
    rows = (ConflictMember.select(ConflictMember.entity, Conflict.id, Conflict.status, Conflict.resolution)
            .join(Conflict).where(ConflictMember.entity.in_(ids)).tuples())
    for entity_id, conflict_id, status, resolution in rows:
        entry = result[entity_id]
        if status == "open":
            entry.open.append(conflict_id)
        elif (resolution or "").startswith("supersede_others:") and resolution.split(":", 1)[1] != entity_id:
            entry.lost.append(conflict_id)
    subjects = (Conflict.select(Conflict.slot_key, Conflict.id)
                .where((Conflict.status == "open") & Conflict.slot_kind.in_((MATERIAL, PARENT))
                       & Conflict.slot_key.in_(ids)).tuples())
    for entity_id, conflict_id in subjects:
        result[entity_id].open.append(conflict_id)
    for entry in result.values():
        entry.open = sorted(set(entry.open))
        entry.lost = sorted(set(entry.lost))
    return result


def conflict_line(conflict_id: str) -> str | None:
    """One line that says what an open conflict is about, members by name; None if gone."""
    conflict = Conflict.get_or_none(Conflict.id == conflict_id)
    if conflict is None:
        return None
    members = sorted(
        Entity.select(Entity.name, Entity.id).join(ConflictMember)
        .where(ConflictMember.conflict == conflict.id).tuples(),
        key=lambda row: (row[0].lower(), row[1]))
    names = "; ".join(name for name, _ in members)
    subject = Entity.get_or_none(Entity.id == conflict.slot_key) if conflict.slot_kind != DUPLICATE else None
    if conflict.slot_kind == MATERIAL and subject is not None:
        what = f"{subject.name} has {len(members)} active materials"
    elif conflict.slot_kind == PARENT and subject is not None:
        what = f"{subject.name} is PART_OF {len(members)} parents"
    else:
        what = f"{len(members)} active requirements share one name"
    return f"Unresolved conflict: {what}: {names}"


def deciding(conflict_ids: Iterable[str]) -> list[str]:
    """Active decisions that AFFECT the subject or a member of any of these
    conflicts (what was decided about a disputed slot), sorted by id."""
    ids = sorted({str(i) for i in conflict_ids})
    if not ids:
        return []
    subjects = [key for (key,) in Conflict.select(Conflict.slot_key)
                .where(Conflict.id.in_(ids) & Conflict.slot_kind.in_((MATERIAL, PARENT))).tuples()]
    members = [e for (e,) in ConflictMember.select(ConflictMember.entity)
               .where(ConflictMember.conflict.in_(ids)).tuples()]
    affected = sorted(set(subjects) | set(members))
    if not affected:
        return []
    decisions = (Entity.select(Entity.id).join(Relationship, on=(Relationship.source == Entity.id))
                 .where((Relationship.relationship_type == "AFFECTS") & Relationship.target.in_(affected)
                        & (Entity.entity_type == "decision") & (Entity.status == "active"))
                 .distinct().tuples())
    return sorted(eid for (eid,) in decisions)
