"""What each tier of a pack could hold, ranked by relevance to the prompt.

Relevance is hybrid, like retrieval (see ``TextCollection.relevance``): the
cosine similarity of the prompt's embedding with the item's text (the bundled
static model), blended with the share of the prompt's terms the item contains
(the static model alone puts unrelated engineering sentences at 0.25-0.4 and
misses exact identifiers).
The rank inside a tier then blends relevance with the item's own trust:
confidence, and for memories how often responses actually used them. Items
that must not go in at all are returned with the reason already set (below
confidence, superseded, not relevant, duplicate) so the receipt accounts for
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from peewee import SQL

from ..search.text_vectors import Changes, TextCollection, TextVectors, collection
from ..search.vectors import CHUNKS_VERSION
from ..store.models import Entity, EntityAudit, Memory, MemoryAudit, ProjectState, Relationship
from . import format as fmt
from .inference import ProjectChoice, by_hits, by_name, given
from .receipt import (
    BELOW_CONFIDENCE,
    CONTESTED_REASON,
    DUPLICATE,
    LOST_CONFLICT,
    LOWER_MATCH,
    NOT_RELEVANT,
    SUPERSEDED,
    PackItem,
)

if TYPE_CHECKING:
    from ..engine import Engine
    from ..graph.standing import Standing

MIN_CONFIDENCE = 0.5
"""Memories below this confidence never enter a pack (SPEC: tier 2 and up)."""
RELEVANCE_FLOOR = 0.30
"""Relevance below which a memory or entity is not about the prompt. On the
sample data, memories a person would call relevant scored 0.32-0.61 and
unrelated ones 0.14-0.29 (tests/test_context.py holds the cases)."""
PREFERENCE_FLOOR = 0.20
"""Identity and preferences shape every answer, so a looser floor."""
DUPLICATE_SIMILARITY = 0.95
CHUNK_CANDIDATES = 16
PATCH_LIMIT = 500
"""A memory view is patched with the rows written since it was built while
there are at most this many; more (an import, a review of hundreds) reloads it."""
MAX_CONSIDERED = 40
"""Per tier, the best-ranked candidates that the receipt lists one by one; a
tier never takes more than a few dozen items, and a receipt of thousands of
memories that were never in reach would hide the ones that matter."""
ENTITY_CANDIDATES = 5
ENTITY_SHORTLIST = 12
"""Best entities by relevance whose conflict standing is looked up before one is chosen."""
CONTESTED = 0.7
"""Rank factor of an entity held by an open conflict: what is disputed is not what was decided."""
MAX_RELATIONSHIPS = 8
MAX_CONFLICT_LINES = 2
ENTITY_DEPENDENT = ("conflict", "relationship", "gaps")
"""Engineering-tier lines that mean nothing without the chosen entity above them."""
LIVE_MEMORY = ("active",)
IDENTITY_TYPES = ("identity", "preference")
PROJECT_TYPES = ("project", "knowledge", "episodic")


@dataclass
class TierCandidates:
    items: list[PackItem] = field(default_factory=list)
    not_considered: int = 0
    """Candidates ranked below the ones listed (not in the receipt item by item)."""


class Gatherer:
    """Gathers one pack's candidates; ``cache`` outlives it (the builder's), so
    collections of texts are embedded and indexed once, until their rows change."""

    def __init__(self, engine: Engine, prompt: str, project: str | None, cache: dict):
        self.engine = engine
        self.prompt = prompt
        self.project = project
        self.cache = cache
        self.vectors: TextVectors = engine.text_vectors
        self.query = engine.embedder.encode([prompt])[0]
        self._taken = np.zeros((0, 0), dtype=np.float32)
        self._taken_count = 0
        self._memory_signature: tuple | None = None
        self._changed: dict[tuple, frozenset | None] = {}

    def memory_signature(self) -> tuple:
        """Changes whenever any memory does (every change is audited; the
        newest row's rowid catches rows written without an audit, such as bulk
        imports) and when the database was replaced (a restore or a salvage
        bumps the chunks version); once per pack. Each part is one index probe,
        where a count of the rows reads them all."""
        if self._memory_signature is None:
            self._memory_signature = self.engine.db.execute_sql(_MEMORY_SIGNATURE).fetchone()
        return self._memory_signature

    def changed_memories(self, since: tuple) -> frozenset | None:
        """Ids of the memories written since the signature ``since`` (audited
        changes and newer rows), or None where a reload is the answer: the
        database was replaced, or more than PATCH_LIMIT changed."""
        now = self.memory_signature()
        if since[2] != now[2] or any(old is not None and (new is None or new < old)
                                     for old, new in zip(since[:2], now[:2], strict=True)):
            return None
        if since not in self._changed:
            audited = (MemoryAudit.select(MemoryAudit.memory).where(MemoryAudit.id > (since[0] or 0))
                       .distinct().limit(PATCH_LIMIT + 1))
            added = Memory.select(Memory.id).where(SQL("rowid") > (since[1] or 0)).limit(PATCH_LIMIT + 1)
            ids = frozenset(row[0] for query in (audited, added) for row in self._rows(query))
            self._changed[since] = ids if len(ids) <= PATCH_LIMIT else None
        return self._changed[since]

    def _rows(self, query) -> list[tuple]:
        """A query's rows as the database gives them: every column here is text
        or a number, so Peewee's per-value conversion (about 8 µs a row) is
        skipped (a full load of a view reads every row: 9,000 memories)."""
        return self.engine.db.execute(query).fetchall()

    def _collection(self, view: str, signature, load, changes=None, order=None) -> TextCollection:
        return collection(self.vectors, self.cache, view, signature, load, changes, order)

    # ------------------------------------------------------------ tier 1
    def project_state(self) -> TierCandidates:
        if not self.project:
            return TierCandidates()
        scope = ProjectState.project == self.project
        signature = self.engine.db.execute_sql(_STATE_SIGNATURE, (self.project,)).fetchone()

        def load():
            rows = self._rows(ProjectState.select(ProjectState.id, ProjectState.category, ProjectState.key,
                                                  ProjectState.value, ProjectState.confidence,
                                                  ProjectState.status).where(scope)
                              .order_by(ProjectState.category, ProjectState.key, ProjectState.id))
            return rows, [(r[0], f"{r[1]} {r[2]}: {r[3]}") for r in rows]

        texts = self._collection(f"state:{self.project}", signature, load)
        relevant = texts.relevance(self.prompt, self.query)
        items = []
        for (sid, category, key, value, confidence, status), score in zip(texts.rows, relevant, strict=True):
            item = PackItem("state", sid, f"[{category}] {key}", 0.7 * float(score) + 0.3 * confidence,
                            fmt.state_line(category, key, value),
                            data={"category": category, "key": key})
            if status != "active":
                item.reason = SUPERSEDED
            items.append(item)
        return TierCandidates(_ranked(items))

    # --------------------------------------------------------- tiers 2-4
    def memories(self, view: str, types: tuple[str, ...], projects: tuple[str, ...],
                 floor: float = RELEVANCE_FLOOR) -> TierCandidates:
        signature = self.memory_signature()
        query = (Memory.select(Memory.id, Memory.memory_type, Memory.content, Memory.confidence,
                               Memory.reference_count, Memory.status)
                 .where(Memory.memory_type.in_(types) & Memory.project.in_(projects)
                        & Memory.status.in_(("active", "superseded"))))

        def load():
            rows = self._rows(query.order_by(Memory.memory_type, Memory.content, Memory.id))
            return rows, [(r[0], r[2]) for r in rows]

        def changes(since: tuple) -> Changes | None:
            ids = self.changed_memories(since)
            if ids is None:
                return None
            rows = self._rows(query.where(Memory.id.in_(list(ids)))) if ids else []
            return Changes(ids, rows, [(r[0], r[2]) for r in rows])

        texts = self._collection(f"{view}:{','.join(projects)}", signature, load, changes, _memory_order)
        if not len(texts):
            return TierCandidates()
        relevant = texts.relevance(self.prompt, self.query)
        rows = texts.rows
        confidence = texts.column(3)
        references = texts.column(4)
        active = np.fromiter((r[5] == "active" for r in rows), dtype=bool, count=len(rows))
        scores = (0.75 * relevant + 0.2 * confidence
                  + 0.05 * np.minimum(1.0, np.log1p(references) / math.log1p(10)))
        eligible = active & (confidence >= MIN_CONFIDENCE) & (relevant >= floor)
        wanted = active | (relevant >= floor)  # superseded and off-topic: not candidates at all
        order = [i for i in np.lexsort((-scores, ~eligible)) if wanted[i]]
        considered = order[:MAX_CONSIDERED]
        items = []
        for index in considered:
            mid, mtype, content, conf, _refs, status = rows[index]
            item = PackItem("memory", mid, f"({mtype}) {content[:80]}", float(scores[index]),
                            fmt.memory_line(mtype, content),
                            data={"memory_type": mtype, "confidence": conf,
                                  "relevance": round(float(relevant[index]), 4)})
            if status != "active":
                item.reason = SUPERSEDED
            elif conf < MIN_CONFIDENCE:
                item.reason = BELOW_CONFIDENCE
            elif relevant[index] < floor:
                item.reason = NOT_RELEVANT
            elif self._duplicate(texts.matrix[index]):
                item.reason = DUPLICATE
            items.append(item)
        return TierCandidates(_ranked(items), not_considered=len(order) - len(considered))

    def _duplicate(self, vector: np.ndarray) -> bool:
        """Nearly the same text as a memory already taken (in any tier); else take it.
        (The taken vectors fill one matrix: stacking them afresh for each of a
        pack's ~50 candidates cost ~1 ms at 100k chunks.)"""
        taken = self._taken[:self._taken_count]
        if self._taken_count and float(np.max(taken @ vector)) >= DUPLICATE_SIMILARITY:
            return True
        if self._taken_count == len(self._taken):
            grown = np.zeros((max(16, 2 * len(self._taken)), len(vector)), dtype=np.float32)
            if self._taken_count:
                grown[:self._taken_count] = taken
            self._taken = grown
        self._taken[self._taken_count] = vector
        self._taken_count += 1
        return False

    # ------------------------------------------------------------ tier 5
    def graph_signature(self) -> tuple:
        """As :meth:`memory_signature`, for entities (a count of 50k entities took 1.1 ms per pack)."""
        return self.engine.db.execute_sql(_GRAPH_SIGNATURE).fetchone()

    def engineering(self) -> TierCandidates:
        """The best-matching entity that is decided and active, a line per open
        conflict it is caught in, its relationships (most relevant first) and
        the project's gaps; the runners-up are listed in the receipt only.

        Superseded entities are never candidates; an entity that lost a
        resolved conflict is never chosen; one held by an open conflict ranks
        lower, and when it still ranks first while a decision AFFECTS that
        conflict's slot (its subject or a member), the decision is chosen
        instead: what was decided, with the dispute said in one line."""
        from ..graph.standing import deciding, standing

        scope = self.project or "*"

        def load():
            query = (Entity.select(Entity.id, Entity.entity_type, Entity.name, Entity.description,
                                   Entity.confidence, Entity.project)
                     .where(Entity.status == "active")
                     .order_by(Entity.project, Entity.entity_type, Entity.name, Entity.id))
            if self.project:
                query = query.where(Entity.project == self.project)
            rows = self._rows(query)
            return rows, [(r[0], f"{r[1]} {r[2]}: {r[3]}") for r in rows]

        signature = self.graph_signature()
        view = f"entity:{scope}"
        texts = self._collection(view, signature, load)
        if not len(texts):
            return TierCandidates()
        relevant = texts.relevance(self.prompt, self.query)
        scores = 0.9 * relevant + 0.1 * texts.column(4)
        count = min(ENTITY_SHORTLIST, len(texts))
        shortlist = [int(i) for i in np.argpartition(-scores, count - 1)[:count]]
        standings = standing(texts.rows[i][0] for i in shortlist)

        def candidate(i: int, place: Standing) -> _Candidate:
            factor = CONTESTED if place.open else 1.0
            return _Candidate(float(scores[i]) * factor, float(relevant[i]), texts.rows[i], place)

        ranked = sorted((candidate(i, standings[texts.rows[i][0]]) for i in shortlist),
                        key=lambda c: (bool(c.place.lost), -c.score, c.row[2].lower(), c.row[0]))
        top = ranked[:ENTITY_CANDIDATES]
        best = top[0]
        if best.relevance < RELEVANCE_FLOOR or best.place.lost:
            return TierCandidates([_entity_item(c.row, c.score, c.reason(NOT_RELEVANT)) for c in top])
        chosen, disputed = best, list(best.place.open)
        if disputed:
            positions = self._positions(view, signature, texts)
            decisions = [positions[d] for d in deciding(disputed) if d in positions]
            if decisions:
                i = min(decisions, key=lambda i: (-float(scores[i]), texts.rows[i][2].lower(), texts.rows[i][0]))
                chosen = candidate(i, standing([texts.rows[i][0]])[texts.rows[i][0]])
                best.displaced = True
        items = [_entity_item(chosen.row, chosen.score, None)]
        items.extend(self._conflict_items(chosen.row, [*disputed, *chosen.place.open]))
        items.extend(self._relationship_items(chosen.row[0], view, signature, texts, relevant))
        gaps_item = self._gaps_item(chosen.row[5], signature)
        if gaps_item is not None:
            items.append(gaps_item)
        items.extend(_entity_item(c.row, c.score, c.reason(LOWER_MATCH))
                     for c in top if c.row[0] != chosen.row[0])
        return TierCandidates(items)

    def _positions(self, view: str, signature, texts: TextCollection) -> dict[str, int]:
        """Entity id -> row of an entity collection (cached with it)."""
        key = f"{view}:positions"
        cached = self.cache.get(key)
        if cached is None or cached[0] != signature or len(cached[1]) != len(texts):
            cached = (signature, {row[0]: i for i, row in enumerate(texts.rows)})
            self.cache[key] = cached
        return cached[1]

    def _conflict_items(self, row: tuple, conflict_ids: list[str]) -> list[PackItem]:
        """A line per open conflict the chosen entity is in or was chosen over,
        or (for a decision) that holds something the decision affects."""
        from ..graph.standing import conflict_line, standing

        conflict_ids = list(conflict_ids)
        if row[1] == "decision":
            affected = [t for (t,) in Relationship.select(Relationship.target)
                        .where((Relationship.source == row[0])
                               & (Relationship.relationship_type == "AFFECTS")).tuples()]
            for other in standing(affected).values():
                conflict_ids.extend(other.open)
        lines = sorted((line, conflict_id) for conflict_id in set(conflict_ids)
                       if (line := conflict_line(conflict_id)))  # by text: conflict ids are random
        return [PackItem("conflict", conflict_id, line, 1.0, f"  {line}")
                for line, conflict_id in lines[:MAX_CONFLICT_LINES]]

    def _relationship_items(self, entity_id: str, view: str, signature, texts: TextCollection,
                            relevant: np.ndarray) -> list[PackItem]:
        """Live relationships of the chosen entity, ranked by how relevant the
        entity at the other end is to the prompt, then by confidence, then by
        content (type, names) so that a tie never falls to random ids."""
        source = Entity.alias("s")
        target = Entity.alias("t")
        rows = (Relationship.select(Relationship.id, Relationship.relationship_type, Relationship.confidence,
                                    source.id, source.name, source.entity_type, source.status,
                                    target.id, target.name, target.entity_type, target.status)
                .join(source, on=(Relationship.source == source.id))
                .switch(Relationship).join(target, on=(Relationship.target == target.id))
                .where((Relationship.source == entity_id) | (Relationship.target == entity_id))
                .tuples())
        positions = self._positions(view, signature, texts)
        ranked = []
        for r in rows:
            if r[6] != "active" or r[10] != "active":
                continue
            other = r[7] if r[3] == entity_id else r[3]
            place = positions.get(other)
            other_relevance = float(relevant[place]) if place is not None else 0.0
            score = 0.8 * other_relevance + 0.2 * r[2]
            ranked.append((round(score, 6), r))
        ranked.sort(key=lambda c: (-c[0], c[1][1], c[1][4].lower(), c[1][8].lower(), c[1][3], c[1][7], c[1][0]))
        items = []
        for score, (rid, rtype, _, _, sname, stype, _, _, tname, ttype, _) in ranked:
            text = f"  {stype} {sname} --{rtype}--> {ttype} {tname}"
            items.append(PackItem("relationship", rid, f"{sname} {rtype} {tname}", score, text))
        for extra in items[MAX_RELATIONSHIPS:]:
            extra.reason = f"more than {MAX_RELATIONSHIPS} relationships"
        return items

    def _gaps_item(self, project: str, signature) -> PackItem | None:
        if not project:
            return None
        key = f"gaps:{project}"
        cached = self.cache.get(key)
        if cached is None or cached[0] != signature:
            from ..graph.gaps import gaps

            cached = (signature, gaps(project)["counts"])
            self.cache[key] = cached
        counts = cached[1]
        text = ("Gaps in " + project + ": "
                + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))
        return PackItem("gaps", project, text, 0.0, text, data=dict(counts))

    # ------------------------------------------------------------ tier 6
    def hits(self) -> list:
        return self.engine.query(self.prompt, CHUNK_CANDIDATES, project=self.project)

    def chunks(self, hits: list | None = None) -> TierCandidates:
        hits = self.hits() if hits is None else hits
        return TierCandidates([
            PackItem("chunk", h.chunk_id, f"{h.source_file} › {h.heading_path}", h.score,
                     fmt.chunk_text(h.source_file, h.heading_path, h.score, h.content),
                     data={"source_file": h.source_file, "heading_path": h.heading_path,
                           "title": h.title, "project": h.project, "content": h.content})
            for h in hits])


def _memory_order(row: tuple) -> tuple:
    """A memory view's order (type, content, id), as its query's ORDER BY gives
    it: SQLite compares text byte by byte, which for UTF-8 is code point order,
    Python's."""
    return row[1], row[2], row[0]


def _newest(audit, model, *more: str) -> str:
    """SQL for (newest audit entry, newest row's rowid, *more): each one index
    probe, in one statement (Peewee built and ran two queries for ~0.5 ms)."""
    parts = [f'(SELECT MAX(id) FROM "{audit._meta.table_name}")',
             f'(SELECT MAX(rowid) FROM "{model._meta.table_name}")', *more]
    return f"SELECT {', '.join(parts)}"


_MEMORY_SIGNATURE = _newest(MemoryAudit, Memory, f"(SELECT value FROM meta WHERE key = '{CHUNKS_VERSION}')")
_GRAPH_SIGNATURE = _newest(EntityAudit, Entity)
_STATE_SIGNATURE = (f'SELECT COUNT(*), MAX(updated_at) FROM "{ProjectState._meta.table_name}" '
                    "WHERE project = ?")


def _ranked(items: list[PackItem]) -> list[PackItem]:
    """Eligible items best first, then the excluded ones; ties by text, then id
    (ids differ between data dirs, texts do not)."""
    return sorted(items, key=lambda i: (i.reason is not None, -i.score, i.text, i.ref))


@dataclass
class _Candidate:
    """An entity in the running for the engineering tier."""
    score: float
    relevance: float
    row: tuple
    place: Standing
    """Its conflict standing (:class:`..graph.standing.Standing`)."""
    displaced: bool = False
    """Ranked first, but held by an open conflict that a decision settles."""

    def reason(self, otherwise: str) -> str:
        if self.place.lost:
            return LOST_CONFLICT
        if self.displaced:
            return CONTESTED_REASON
        return otherwise


def _entity_item(row: tuple, score: float, reason: str | None) -> PackItem:
    eid, etype, name, description, confidence, _project = row
    text = f"{etype} {name}" + (f": {' '.join(description.split())}" if description else "")
    return PackItem("entity", eid, f"{etype} {name}", score, text,
                    reason=reason, data={"entity_type": etype, "name": name})


def gather(engine: Engine, prompt: str, project: str | None,
           cache: dict) -> tuple[dict[str, TierCandidates], ProjectChoice]:
    """Candidates for every tier, keyed by tier key, and the project they were
    gathered for: the caller's, or one inferred from the prompt (see :mod:`.inference`).

    Without a project the notes are retrieved first, unscoped, so that their
    projects can vote; the same hits then fill the chunk tier (no second search).
    """
    g = Gatherer(engine, prompt, project, cache)
    hits = None
    choice: ProjectChoice | None
    if project:
        choice = given(project)
    else:
        choice = by_name(prompt, cache)
        if choice is None:
            hits = g.hits()
            choice = by_hits(prompt, [(h.project, f"{h.title} {h.heading_path} {h.content}") for h in hits])
        project = g.project = choice.project
    scope = (project,) if project else ()
    return {
        "project_state": g.project_state(),
        "identity_preference": g.memories("memory/identity", IDENTITY_TYPES, ("", *scope),
                                          floor=PREFERENCE_FLOOR),
        "project_memories": (g.memories("memory/project", PROJECT_TYPES, scope)
                             if project else TierCandidates()),
        "domain_knowledge": g.memories("memory/knowledge", ("knowledge",), ("",)),
        "engineering": g.engineering(),
        "chunks": g.chunks(hits),
    }, choice
