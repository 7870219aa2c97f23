"""Read-only questions to the graph: system map, requirements of a component,
decisions, recent changes, impact and evidence.

Superseded entities are history: walks and maps do not pass through them.
Impact and evidence are the same breadth-first walk (:func:`walk`) over a
different set of edges (see ``IMPACT_EDGES`` / ``EVIDENCE_EDGES`` in vocab),
so each reached entity appears once, at its shortest distance, with the path
that reached it.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..errors import ValidationError
from ..store.models import Chunk, Document, Entity, EntityAudit, Interaction, Memory, Relationship
from . import vocab
from .records import entity_brief, entity_dict, get_entities, get_entity

CHUNK = 400  # ids per IN (...) query: well below SQLite's parameter limit
TYPE_RANK = {t: i for i, t in enumerate(vocab.ENTITY_TYPES)}
MAX_CHANGES = 500
_SINCE_RE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?")


# ---------------------------------------------------------------------- walk
def walk(start: Entity, edges: dict[str, str], depth: int) -> list[dict]:
    """Breadth-first walk from ``start`` along ``edges`` (type -> "in"/"out") up to ``depth``.

    Returns one row per reached entity (never the start), nearest first:
    its brief, ``depth``, ``via`` (the edge type of the last step) and ``path``
    (entity ids from the start to it). Neighbours are visited in a stable
    order (edge type, then id), so the path reported is deterministic.
    """
    out_types = [t for t, d in edges.items() if d == "out"]
    in_types = [t for t, d in edges.items() if d == "in"]
    paths: dict[str, list[str]] = {start.id: [start.id]}
    frontier = [start.id]
    reached: list[dict] = []
    for level in range(1, depth + 1):
        steps = _neighbours(frontier, out_types, in_types)
        fresh: dict[str, tuple[str, str]] = {}  # neighbour -> (from, via)
        for node in frontier:
            for rel_type, other in sorted(steps.get(node, ())):
                if other not in paths and other not in fresh:
                    fresh[other] = (node, rel_type)
        entities = get_entities(fresh)
        frontier = []
        for other, (parent, rel_type) in fresh.items():
            entity = entities.get(other)
            if entity is None or entity.status == vocab.SUPERSEDED:
                continue
            paths[other] = paths[parent] + [other]
            frontier.append(other)
            reached.append({**entity_brief(entity), "confidence": entity.confidence,
                            "source_refs": list(entity.source_refs or []),
                            "depth": level, "via": rel_type, "path": paths[other]})
        if not frontier:
            break
    return reached


def _neighbours(nodes: list[str], out_types: list[str], in_types: list[str]) -> dict[str, set]:
    """node -> {(edge type, neighbour id)} for the edges a walk may take."""
    found: dict[str, set] = defaultdict(set)
    for start in range(0, len(nodes), CHUNK):
        chunk = nodes[start:start + CHUNK]
        if out_types:
            rows = (Relationship.select(Relationship.source, Relationship.target, Relationship.relationship_type)
                    .where(Relationship.source.in_(chunk) & Relationship.relationship_type.in_(out_types))
                    .tuples())
            for source, target, rel_type in rows:
                found[source].add((rel_type, target))
        if in_types:
            rows = (Relationship.select(Relationship.source, Relationship.target, Relationship.relationship_type)
                    .where(Relationship.target.in_(chunk) & Relationship.relationship_type.in_(in_types))
                    .tuples())
            for source, target, rel_type in rows:
                found[target].add((rel_type, source))
    return found


def impact(entity_id: str, depth: int | None = None) -> dict:
    """What a change to this entity reaches downstream (dependency-type edges)."""
    depth = vocab.depth(depth)
    start = get_entity(entity_id)
    reached = walk(start, vocab.IMPACT_EDGES, depth)
    return {"entity": entity_brief(start), "depth": depth, "count": len(reached), "reached": reached}


def evidence(entity_id: str, depth: int | None = None) -> dict:
    """What supports this entity: inbound provenance, recursively, with every source ref described."""
    depth = vocab.depth(depth)
    start = get_entity(entity_id)
    supporters = walk(start, vocab.EVIDENCE_EDGES, depth)
    refs = describe_refs([*(start.source_refs or []), *(r for s in supporters for r in s["source_refs"])])
    return {"entity": entity_brief(start), "depth": depth, "count": len(supporters),
            "source_refs": [refs[r] for r in start.source_refs or []],
            "supporters": [{**s, "source_refs": [refs[r] for r in s["source_refs"]]} for s in supporters]}


def describe_refs(refs: list[str]) -> dict[str, dict]:
    """``kind:value`` -> {ref, kind, exists, label}: what a reference points at, if it still exists."""
    described: dict[str, dict] = {}
    for ref in dict.fromkeys(refs):
        kind, _, key = ref.partition(":")
        label, exists = "", False
        if kind == "note":
            doc = Document.get_or_none(Document.path == key)
            exists, label = doc is not None, (doc.title if doc else "")
        elif kind == "memory":
            memory = Memory.get_or_none(Memory.id == key)
            exists, label = memory is not None, (_snippet(memory.content) if memory else "")
        elif kind == "chunk":
            chunk = Chunk.get_or_none(Chunk.chunk_id == key)
            exists, label = chunk is not None, (chunk.heading_path or chunk.title if chunk else "")
        elif kind == "interaction":
            interaction = Interaction.get_or_none(Interaction.id == key)
            exists, label = interaction is not None, (_snippet(interaction.prompt) if interaction else "")
        described[ref] = {"ref": ref, "kind": kind, "exists": exists, "label": label}
    return described


def _snippet(text: str, size: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


# ---------------------------------------------------------------- system map
def system_map(project: str) -> dict:
    """The PART_OF tree of a project: roots, children, and any cycles (reported, not looped).

    A node reached a second time (several parents) is listed again with
    ``repeated: true`` and not expanded; an edge back to an ancestor is listed
    with ``cycle: true`` and the cycle is reported once in ``cycles``.
    """
    edges = (Relationship.select(Relationship.source, Relationship.target)
             .join(Entity, on=(Relationship.source == Entity.id))
             .where((Entity.project == project) & (Relationship.relationship_type == "PART_OF")
                    & (Entity.status != vocab.SUPERSEDED)).tuples())
    pairs = list(edges)
    systems = [e.id for e in Entity.select(Entity.id).where(
        (Entity.project == project) & (Entity.entity_type == "system") & (Entity.status != vocab.SUPERSEDED))]
    entities = get_entities([*(i for pair in pairs for i in pair), *systems])
    live = {i for i, e in entities.items() if e.status != vocab.SUPERSEDED}
    children: dict[str, list[str]] = defaultdict(list)
    has_parent: set[str] = set()
    for child, parent in pairs:
        if child in live and parent in live:
            children[parent].append(child)
            has_parent.add(child)

    def order(ids):
        return sorted(set(ids), key=lambda i: (TYPE_RANK.get(entities[i].entity_type, 99),
                                               entities[i].name.lower(), i))

    for parent in children:
        children[parent] = order(children[parent])
    expanded: set[str] = set()
    cycles: list[list[str]] = []
    seen_cycles: set[tuple] = set()

    def build(node: str, stack: list[str]) -> dict:
        expanded.add(node)
        item = {**entity_brief(entities[node]), "children": []}
        for child in children.get(node, ()):
            if child in stack or child == node:
                cycle = stack[stack.index(child):] + [node] if child in stack else [node]
                _remember_cycle(cycle, cycles, seen_cycles)
                item["children"].append({**entity_brief(entities[child]), "cycle": True, "children": []})
            elif child in expanded:
                item["children"].append({**entity_brief(entities[child]), "repeated": True, "children": []})
            else:
                item["children"].append(build(child, stack + [node]))
        return item

    nodes = live & ({i for pair in pairs for i in pair} | set(systems))
    roots = [build(r, []) for r in order(nodes - has_parent)]
    for node in order(nodes):  # what no root reaches sits on a cycle with no way in
        if node not in expanded:
            roots.append({**build(node, []), "in_cycle": True})
    return {"project": project, "nodes": len(nodes), "roots": roots,
            "cycles": [[entity_brief(entities[i]) for i in cycle] for cycle in cycles]}


def _remember_cycle(cycle: list[str], cycles: list[list[str]], seen: set[tuple]) -> None:
    smallest = cycle.index(min(cycle))
    canonical = tuple(cycle[smallest:] + cycle[:smallest])
    if canonical not in seen:
        seen.add(canonical)
        cycles.append(list(canonical))


# -------------------------------------------------- requirements of a component
def requirements_for(entity_id: str) -> dict:
    """Requirements and constraints an entity answers for: its own SATISFIES /
    CONSTRAINED_BY edges and those of its parts (PART_OF, any depth)."""
    component = get_entity(entity_id)
    parts = walk(component, {"PART_OF": "in"}, 20)
    owners = {component.id: None, **{p["id"]: p for p in parts}}
    rows = []
    for start in range(0, len(owners), CHUNK):
        chunk = list(owners)[start:start + CHUNK]
        rows.extend(Relationship.select(Relationship.source, Relationship.target, Relationship.relationship_type)
                    .where(Relationship.source.in_(chunk)
                           & Relationship.relationship_type.in_(["SATISFIES", "CONSTRAINED_BY"])).tuples())
    targets = get_entities(t for _, t, _ in rows)
    found: dict[str, dict] = {}
    for source, target, rel_type in sorted(rows, key=lambda r: (r[0] != component.id, r[2], r[1])):
        entity = targets.get(target)
        if entity is None or entity.status == vocab.SUPERSEDED or target in found:
            continue
        via = owners[source]
        found[target] = {**entity_dict(entity), "relationship_type": rel_type,
                         "via": None if via is None else {k: via[k] for k in ("id", "name", "entity_type")}}
    items = sorted(found.values(), key=lambda r: (r["entity_type"], r["name"].lower()))
    return {"entity": entity_brief(component), "count": len(items), "requirements": items}


# ----------------------------------------------------------------- decisions
def decisions(project: str, include_superseded: bool = False) -> list[dict]:
    """A project's decisions with what they are based on, what they affect and supersede."""
    query = Entity.select().where((Entity.project == project) & (Entity.entity_type == "decision"))
    if not include_superseded:
        query = query.where(Entity.status != vocab.SUPERSEDED)
    rows = sorted(query, key=lambda e: (e.name.lower(), e.id))
    ids = [d.id for d in rows]
    links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for source, target, rel_type in (Relationship.select(
                Relationship.source, Relationship.target, Relationship.relationship_type)
                .where((Relationship.source.in_(chunk) | Relationship.target.in_(chunk))
                       & Relationship.relationship_type.in_(["BASED_ON", "AFFECTS", "SUPERSEDES"])).tuples()):
            if source in chunk:
                links[source][rel_type].append(target)
            if target in chunk and rel_type == "SUPERSEDES":
                links[target]["SUPERSEDED_BY"].append(source)
    others = get_entities(i for d in links.values() for group in d.values() for i in group)

    def briefs(ids_):
        return [entity_brief(others[i]) for i in sorted(ids_) if i in others]

    return [{**entity_dict(d), "based_on": briefs(links[d.id]["BASED_ON"]),
             "affects": briefs(links[d.id]["AFFECTS"]), "supersedes": briefs(links[d.id]["SUPERSEDES"]),
             "superseded_by": briefs(links[d.id]["SUPERSEDED_BY"])} for d in rows]


# ------------------------------------------------------------ recent changes
def recent_changes(project: str | None = None, since: str | None = None, limit: int = 50) -> list[dict]:
    """The entity audit log, newest first; ``since`` is inclusive ('YYYY-MM-DD[ HH:MM[:SS]]' UTC)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CHANGES:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_CHANGES}")
    query = (EntityAudit.select(EntityAudit, Entity).join(Entity, on=(EntityAudit.entity == Entity.id)))
    if project:
        query = query.where(Entity.project == project)
    if since:
        text = str(since).strip()
        if not _SINCE_RE.fullmatch(text):
            raise ValidationError(f"since must look like 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS', not {since!r}")
        query = query.where(EntityAudit.at >= text)
    rows = query.order_by(EntityAudit.at.desc(), EntityAudit.id.desc()).limit(limit)
    return [{"id": a.id, "at": a.at, "action": a.action, "actor": a.actor, "entity": entity_brief(a.entity),
             "before": a.before, "after": a.after} for a in rows]
