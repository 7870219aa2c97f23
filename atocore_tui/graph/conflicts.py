"""Conflicts: two active facts competing for one slot.

Three slot kinds (SPEC §2): a component with more than one active material
(``component_material``, key = component id), an entity with more than one
active PART_OF parent (``part_of_parent``, key = child id), and active
requirements of a project whose names are the same once normalised
(``duplicate_requirement``, key = ``project:normalised name``).

Detection runs inside the transaction that activated or linked an entity. A
slot has at most one open conflict: detecting it again adds new members to the
open conflict and raises no second alert. A slot whose conflict was resolved
or dismissed stays quiet unless a new member appears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import NotFound, ValidationError
from ..store.models import Conflict, ConflictMember, Entity, EntityAudit, Relationship, utc_now
from . import alerts, vocab
from .records import add_relationship, audit, entity_brief, get_entities, remove_relationship, set_fields

MATERIAL, PARENT, DUPLICATE = "component_material", "part_of_parent", "duplicate_requirement"
SLOT_KINDS = (MATERIAL, PARENT, DUPLICATE)


@dataclass
class Slot:
    kind: str
    key: str
    project: str
    subject: Entity | None  # the component / child whose slot it is (None for duplicates)
    members: list[Entity]
    title: str


# ------------------------------------------------------------------ detection
def detect_for(entities: Iterable[Entity]) -> list[dict]:
    """Check every slot the given entities take part in; returns conflicts opened or grown."""
    slots: dict[tuple[str, str], Slot] = {}
    for entity in entities:
        for slot in _slots_touching(entity):
            slots.setdefault((slot.kind, slot.key), slot)
    changed = []
    for slot in slots.values():
        if len(slot.members) > 1:
            result = _record(slot)
            if result is not None:
                changed.append(result)
    return changed


def _slots_touching(entity: Entity) -> list[Slot]:
    slots: list[Slot] = []
    if entity.status != vocab.ACTIVE:
        return slots
    if entity.entity_type == "component":
        slots.append(_material_slot(entity))
    if entity.entity_type == "material":
        users = (Entity.select().join(Relationship, on=(Relationship.source == Entity.id))
                 .where((Relationship.target == entity.id) & (Relationship.relationship_type == "USES_MATERIAL")
                        & (Entity.entity_type == "component") & (Entity.status == vocab.ACTIVE)))
        slots.extend(_material_slot(user) for user in users)
    slots.append(_parent_slot(entity))
    children = (Entity.select().join(Relationship, on=(Relationship.source == Entity.id))
                .where((Relationship.target == entity.id) & (Relationship.relationship_type == "PART_OF")
                       & (Entity.status == vocab.ACTIVE)))
    slots.extend(_parent_slot(child) for child in children)
    if entity.entity_type == "requirement":
        slots.append(_duplicate_slot(entity))
    return slots


def _targets(subject: Entity, rel_type: str, entity_type: str | None = None) -> list[Entity]:
    query = (Entity.select().join(Relationship, on=(Relationship.target == Entity.id))
             .where((Relationship.source == subject.id) & (Relationship.relationship_type == rel_type)
                    & (Entity.status == vocab.ACTIVE)))
    if entity_type:
        query = query.where(Entity.entity_type == entity_type)
    return sorted(set(query), key=lambda e: (e.name.lower(), e.id))


def _material_slot(component: Entity) -> Slot:
    members = _targets(component, "USES_MATERIAL", "material")
    return Slot(MATERIAL, component.id, component.project, component, members,
                f"{component.name} uses {len(members)} active materials")


def _parent_slot(child: Entity) -> Slot:
    members = _targets(child, "PART_OF")
    return Slot(PARENT, child.id, child.project, child, members,
                f"{child.name} is PART_OF {len(members)} parents")


def _duplicate_slot(requirement: Entity) -> Slot:
    wanted = vocab.normalised_name(requirement.name)
    same = [r for r in Entity.select().where(
                (Entity.project == requirement.project) & (Entity.entity_type == "requirement")
                & (Entity.status == vocab.ACTIVE))
            if vocab.normalised_name(r.name) == wanted]
    members = sorted(same, key=lambda e: (e.created_at, e.id))
    return Slot(DUPLICATE, f"{requirement.project}:{wanted}", requirement.project, None, members,
                f"{len(members)} active requirements named “{requirement.name}” in {requirement.project}")


def _record(slot: Slot) -> dict | None:
    """Persist a detected slot conflict, de-duplicated by (slot kind, slot key)."""
    existing = list(Conflict.select().where((Conflict.slot_kind == slot.kind) & (Conflict.slot_key == slot.key))
                    .order_by(Conflict.created_at.desc()))
    known = {m.entity_id for c in existing for m in c.members}
    open_one = next((c for c in existing if c.status == "open"), None)
    if open_one is not None:
        new = [m for m in slot.members if m.id not in {x.entity_id for x in open_one.members}]
        if not new:
            return None
        _add_members(open_one, new, slot)
        return conflict_dict(open_one)
    if existing and all(m.id in known for m in slot.members):
        return None  # already decided by a human; nothing new to say
    conflict = Conflict.create(slot_kind=slot.kind, slot_key=slot.key, project=slot.project,
                               status="open", created_at=utc_now())
    _add_members(conflict, slot.members, slot)
    names = ", ".join(f"{m.name} ({m.id})" for m in slot.members)
    alerts.raise_alert(
        "warning", f"Conflict: {slot.title}",
        f"{names}. Resolve with dismiss, supersede_others (choose a winner) or no_action.",
        source=f"conflict:{conflict.id}")
    return conflict_dict(conflict)


def _add_members(conflict: Conflict, members: list[Entity], slot: Slot) -> None:
    for member in members:
        note = {MATERIAL: f"material of {slot.subject.name}" if slot.subject else "",
                PARENT: f"parent of {slot.subject.name}" if slot.subject else "",
                DUPLICATE: "same requirement name"}[slot.kind]
        ConflictMember.create(conflict=conflict, entity=member, note=note)


# ------------------------------------------------------------------- reading
def conflict_dict(conflict: Conflict) -> dict:
    members = list(conflict.members.order_by(ConflictMember.id))
    entities = get_entities([m.entity_id for m in members])
    subject = None
    if conflict.slot_kind in (MATERIAL, PARENT):
        subject_row = Entity.get_or_none(Entity.id == conflict.slot_key)
        subject = entity_brief(subject_row) if subject_row else None
    return {"id": conflict.id, "slot_kind": conflict.slot_kind, "slot_key": conflict.slot_key,
            "project": conflict.project, "status": conflict.status, "resolution": conflict.resolution,
            "created_at": conflict.created_at, "resolved_at": conflict.resolved_at, "subject": subject,
            "members": [{**entity_brief(entities[m.entity_id]), "note": m.note}
                        for m in members if m.entity_id in entities]}


def list_conflicts(project: str | None = None, status: str | None = None) -> list[dict]:
    query = Conflict.select()
    if project:
        query = query.where(Conflict.project == project)
    if status:
        query = query.where(Conflict.status == vocab.conflict_status(status))
    return [conflict_dict(c) for c in query.order_by(Conflict.created_at.desc(), Conflict.id)]


def get_conflict(conflict_id) -> Conflict:
    conflict = Conflict.get_or_none(Conflict.id == str(conflict_id or "").strip())
    if conflict is None:
        raise NotFound(f"unknown conflict: {conflict_id}")
    return conflict


# ---------------------------------------------------------------- resolution
def resolve(conflict_id, action: str, winner: str | None = None, actor: str = "user") -> dict:
    """Apply a resolution (call inside a transaction; validation happens before any write).

    ``dismiss``: not a conflict (status dismissed). ``no_action``: a real
    conflict that the user keeps as it is (status resolved). ``supersede_others``:
    the winner stays and every other member entity becomes ``superseded`` with a
    ``winner SUPERSEDES loser`` edge (as the original service did), so losers
    leave context packs and queries. Each change is audited with the conflict
    id, and :func:`reopen` undoes it.
    """
    action = vocab.resolution(action)
    conflict = get_conflict(conflict_id)
    if conflict.status != "open":
        raise ValidationError(f"conflict {conflict.id} is already {conflict.status}")
    member_ids = [m.entity_id for m in conflict.members]
    winner_id = str(winner or "").strip() or None
    if action == "supersede_others":
        if winner_id is None:
            raise ValidationError("supersede_others needs a winner (one of the conflict's members)")
        if winner_id not in member_ids:
            raise ValidationError(f"winner {winner_id} is not a member of conflict {conflict.id}")
    elif winner_id is not None:
        raise ValidationError("a winner is only chosen with supersede_others")

    if action == "supersede_others" and winner_id is not None:  # checked above: it is given
        losers = [i for i in member_ids if i != winner_id]
        _supersede_entities(winner_id, losers, {"conflict": conflict.id, "winner": winner_id}, actor)
        conflict.status, conflict.resolution = "resolved", f"supersede_others:{winner_id}"
    elif action == "dismiss":
        conflict.status, conflict.resolution = "dismissed", "dismiss"
    else:
        conflict.status, conflict.resolution = "resolved", "no_action"
    conflict.resolved_at = utc_now()
    conflict.save()
    alerts.acknowledge_source(f"conflict:{conflict.id}")
    return conflict_dict(conflict)


def _supersede_entities(winner_id: str, loser_ids: list[str], note: dict, actor: str) -> None:
    entities = get_entities([winner_id, *loser_ids])
    winner = entities[winner_id]
    superseded, edges = [], []
    for loser_id in loser_ids:
        loser = entities.get(loser_id)
        if loser is None or loser.status == vocab.SUPERSEDED:
            continue
        set_fields(loser, {"status": vocab.SUPERSEDED}, "superseded", actor, note)
        superseded.append(loser.id)
        exists = Relationship.select().where(
            (Relationship.source == winner.id) & (Relationship.target == loser.id)
            & (Relationship.relationship_type == "SUPERSEDES")).exists()
        if not exists:
            edges.append(add_relationship(winner, "SUPERSEDES", loser, actor=actor).id)
    audit(winner, CONFLICT_WON, None, {**note, "superseded": superseded, "edges": edges}, actor)


CONFLICT_WON = "conflict_won"


def reopen(conflict_id, actor: str = "user") -> dict:
    """Undo a resolution (call inside a transaction): the conflict is open again;
    after ``supersede_others`` the losers get back the status they had and the
    SUPERSEDES edges the resolution added are removed (both audited)."""
    conflict = get_conflict(conflict_id)
    if conflict.status == "open":
        raise ValidationError(f"conflict {conflict.id} is open: nothing to undo")
    if (conflict.resolution or "").startswith("supersede_others:"):
        winner_id = conflict.resolution.split(":", 1)[1]
        won = (EntityAudit.select().where((EntityAudit.entity == winner_id) & (EntityAudit.action == CONFLICT_WON))
               .order_by(EntityAudit.id.desc()))
        record = next((a.after for a in won if (a.after or {}).get("conflict") == conflict.id), None) or {}
        note = {"conflict": conflict.id, "undone": "supersede_others"}
        for edge in Relationship.select().where(Relationship.id.in_(record.get("edges") or [])):
            remove_relationship(edge, "relationship_removed", actor, note)
        for loser_id in record.get("superseded") or []:
            entity = Entity.get_or_none(Entity.id == loser_id)
            if entity is None or entity.status != vocab.SUPERSEDED:
                continue
            last = (EntityAudit.select().where((EntityAudit.entity == loser_id) & (EntityAudit.action == "superseded"))
                    .order_by(EntityAudit.id.desc()))
            before = next((a.before for a in last if (a.after or {}).get("conflict") == conflict.id), None) or {}
            set_fields(entity, {"status": before.get("status", vocab.ACTIVE)}, "unsuperseded", actor, note)
    conflict.status, conflict.resolution, conflict.resolved_at = "open", None, None
    conflict.save()
    return conflict_dict(conflict)
