"""Gaps: where the trusted (active) graph of a project does not hold itself up.

* orphan requirements — active requirements that no active entity SATISFIES;
* unsupported claims — active validation claims that no active result,
  analysis or test SUPPORTS or VALIDATES;
* risky decisions — active decisions BASED_ON nothing, or only on weak
  grounds: unsupported claims, entities below ``LOW_CONFIDENCE``, or
  superseded entities.

Each item carries ``why``, a sentence that says what is missing. The queries
are correlated ``NOT EXISTS`` sub-selects that ride on the (target, type)
index, so a project's gaps cost a few index probes per requirement/claim.
"""

from __future__ import annotations

from collections import defaultdict

from peewee import fn

from ..store.models import Entity, Relationship
from . import vocab
from .records import entity_brief, get_entities

KINDS = ("orphan_requirements", "risky_decisions", "unsupported_claims")


def gaps(project: str) -> dict:
    orphans = orphan_requirements(project)
    claims = unsupported_claims(project)
    risky = risky_decisions(project)
    return {"project": project,
            "counts": {"orphan_requirements": len(orphans), "risky_decisions": len(risky),
                       "unsupported_claims": len(claims)},
            "orphan_requirements": orphans, "risky_decisions": risky, "unsupported_claims": claims}


def gap_summary() -> list[dict]:
    """Counts per project, for every project that has entities."""
    projects = sorted(p for (p,) in Entity.select(Entity.project).distinct().tuples() if p)
    return [{"project": p, "counts": gaps(p)["counts"]} for p in projects]


def _item(entity: Entity, why: str) -> dict:
    return {**entity_brief(entity), "confidence": entity.confidence, "why": why}


def _active(project: str, entity_type: str):
    return Entity.select().where((Entity.project == project) & (Entity.entity_type == entity_type)
                                 & (Entity.status == vocab.ACTIVE))


def _has_inbound(rel_types: tuple[str, ...], from_types: tuple[str, ...] | None = None):
    """EXISTS an active entity with one of ``rel_types`` pointing at the outer Entity row."""
    source = Entity.alias("src")
    sub = (Relationship.select(Relationship.id).join(source, on=(Relationship.source == source.id))
           .where((Relationship.target == Entity.id) & Relationship.relationship_type.in_(rel_types)
                  & (source.status == vocab.ACTIVE)))
    if from_types:
        sub = sub.where(source.entity_type.in_(from_types))
    return fn.EXISTS(sub)


def orphan_requirements(project: str) -> list[dict]:
    rows = list(_active(project, "requirement").where(~_has_inbound(("SATISFIES",))).order_by(Entity.name))
    inactive = _inactive_sources([r.id for r in rows], ("SATISFIES",))
    items = []
    for req in rows:
        why = "nothing active SATISFIES it"
        if inactive.get(req.id):
            why += " (only " + ", ".join(f"{e.status} {e.entity_type} “{e.name}”" for e in inactive[req.id]) + ")"
        items.append(_item(req, why))
    return items


def unsupported_claims(project: str) -> list[dict]:
    rows = (_active(project, "validation_claim")
            .where(~_has_inbound(vocab.SUPPORT_RELATIONSHIPS, vocab.SUPPORTING_TYPES)).order_by(Entity.name))
    return [_item(c, _claim_why()) for c in rows]


def _claim_why() -> str:
    return "no active " + "/".join(vocab.SUPPORTING_TYPES) + " SUPPORTS or VALIDATES it"


def unsupported_claim_ids(ids: list[str]) -> set[str]:
    """Which of these entities are validation claims without support (any project)."""
    found: set[str] = set()
    for start in range(0, len(ids), 400):
        chunk = ids[start:start + 400]
        found.update(i for (i,) in Entity.select(Entity.id).where(
            Entity.id.in_(chunk) & (Entity.entity_type == "validation_claim")
            & ~_has_inbound(vocab.SUPPORT_RELATIONSHIPS, vocab.SUPPORTING_TYPES)).tuples())
    return found


def risky_decisions(project: str) -> list[dict]:
    decision = Entity.alias("d")
    basis_rows = (Relationship.select(Relationship.source, Relationship.target)
                  .join(decision, on=(Relationship.source == decision.id))
                  .where((decision.project == project) & (decision.entity_type == "decision")
                         & (decision.status == vocab.ACTIVE) & (Relationship.relationship_type == "BASED_ON"))
                  .tuples())
    bases: dict[str, list[str]] = defaultdict(list)
    for source, target in basis_rows:
        bases[source].append(target)
    basis_entities = get_entities(t for ts in bases.values() for t in ts)
    unsupported = unsupported_claim_ids(list(basis_entities))
    items = []
    for row in _active(project, "decision").order_by(Entity.name):
        grounds = [basis_entities[t] for t in bases.get(row.id, ()) if t in basis_entities]
        if not grounds:
            items.append(_item(row, "based on nothing (no BASED_ON)"))
            continue
        weak = [_weakness(g, g.id in unsupported) for g in grounds]
        if all(weak):
            items.append(_item(row, "based only on weak grounds: " + "; ".join(weak)))
    return items


def _weakness(basis: Entity, unsupported_claim: bool) -> str:
    """Why a basis does not carry a decision ('' when it does)."""
    label = f"{basis.entity_type} “{basis.name}”"
    if basis.status == vocab.SUPERSEDED:
        return f"{label} is superseded"
    if unsupported_claim:
        return f"{label} is unsupported ({_claim_why()})"
    if basis.confidence < vocab.LOW_CONFIDENCE:
        return f"{label} has low confidence {basis.confidence:.2f} (< {vocab.LOW_CONFIDENCE})"
    return ""


def _inactive_sources(target_ids: list[str], rel_types: tuple[str, ...]) -> dict[str, list[Entity]]:
    """For the why of an orphan: candidate/superseded entities that would have satisfied it."""
    found: dict[str, list[Entity]] = defaultdict(list)
    for start in range(0, len(target_ids), 400):
        chunk = target_ids[start:start + 400]
        rows = (Entity.select(Entity, Relationship.target.alias("wanted"))
                .join(Relationship, on=(Relationship.source == Entity.id))
                .where(Relationship.target.in_(chunk) & Relationship.relationship_type.in_(rel_types)
                       & (Entity.status != vocab.ACTIVE)).objects())
        for entity in rows:
            found[entity.wanted].append(entity)
    return found
