"""The review queue: candidate memories waiting for a person's decision.

``engine.review`` lists candidates with what a reviewer needs beside each one
(the interaction it came from, its nearest existing memories with a
likely-duplicate flag) and offers the five decisions: promote, reject,
edit-then-promote, merge into an existing memory, supersede an older one.
Each decision is a :class:`~atocore_tui.memory.service.MemoryService`
operation restricted to candidates, so it is audited there and
``engine.memories.undo(id)`` reverts it. Nothing here promotes on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import numpy as np
from peewee import SQL

from .. import validation
from ..store.models import Interaction, Memory
from . import reinforcement
from .duplicates import DUPLICATE_THRESHOLD, duplicate_score, rank_neighbours
from .records import LiveMemory, MemoryRecord
from .vocab import MemoryStatus, require_status, validate_limit


class ReviewOrder(StrEnum):
    OLDEST = "oldest"
    EVIDENCE = "evidence"


ORDERS: tuple[str, ...] = tuple(o.value for o in ReviewOrder)
EXCERPT_CHARS = 300
DEFAULT_NEIGHBOURS = 3
MAX_NEIGHBOURS = 20
REVIEWABLE: tuple[str, ...] = (MemoryStatus.CANDIDATE.value,)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Evidence:
    """The interaction a candidate was extracted from; ``quote`` is the
    sentence of the prompt or response that best matches the candidate."""

    interaction_id: str
    created_at: str
    project: str
    client: str
    prompt: str
    response: str
    quote: str
    quote_from: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Neighbour:
    memory: MemoryRecord
    score: float
    likely_duplicate: bool

    def to_dict(self) -> dict:
        return {"memory": self.memory.to_dict(), "score": self.score, "likely_duplicate": self.likely_duplicate}


@dataclass(frozen=True)
class ReviewItem:
    """One candidate with its evidence. ``evidence_score`` counts the sightings
    of the fact: its source interaction plus other candidates that are likely
    duplicates of it (the same fact extracted again)."""

    memory: MemoryRecord
    evidence: Evidence | None
    evidence_score: int
    neighbours: list[Neighbour] = field(default_factory=list)

    @property
    def likely_duplicate(self) -> bool:
        return any(n.likely_duplicate for n in self.neighbours)

    def to_dict(self) -> dict:
        return {"memory": self.memory.to_dict(),
                "evidence": self.evidence.to_dict() if self.evidence else None,
                "evidence_score": self.evidence_score,
                "likely_duplicate": self.likely_duplicate,
                "neighbours": [n.to_dict() for n in self.neighbours]}


class _OldNames:
    def list(self, *args: Any, **kwargs: Any) -> Any:
        """The old name of :meth:`ReviewQueue.list_candidates`, kept for callers (faces, tests)."""
        return cast("ReviewQueue", self).list_candidates(*args, **kwargs)


class ReviewQueue(_OldNames):
    """``engine.review``: the candidates and the decisions on them."""

    def __init__(self, engine):
        self.engine = engine

    @property
    def memories(self):
        return self.engine.memories

    # ------------------------------------------------------------- reading
    def list_candidates(self, order: str = ReviewOrder.OLDEST, project: str | None = None, limit: int = 50,
             neighbours: int = DEFAULT_NEIGHBOURS) -> list[ReviewItem]:
        """Candidates, oldest first or most evidenced first (ties: higher
        confidence, then older). ``project=None``: every project; ``""``: only
        cross-project candidates."""
        order = validation.one_of(order, ORDERS, "review order")
        limit = validate_limit(limit)
        neighbours = validate_limit(neighbours, MAX_NEIGHBOURS) if neighbours else 0
        query = Memory.select().where(Memory.status == MemoryStatus.CANDIDATE)
        if project is not None:
            query = query.where(Memory.project == self.memories.project_id(project))
        candidates = list(query.order_by(Memory.created_at, SQL("rowid")))
        live = self.memories.live_pool()
        matrix = self.memories.vectors.matrix("memory/live", [(r.id, r.content) for r in live])
        position = {row.id: i for i, row in enumerate(live)}
        scores = self._evidence_scores(candidates, matrix, position)
        if order == ReviewOrder.EVIDENCE:
            ranked = sorted(range(len(candidates)),
                            key=lambda i: (-scores[candidates[i].id], -candidates[i].confidence, i))
            candidates = [candidates[i] for i in ranked]
        return [self._item(row, scores[row.id], live, matrix, position, neighbours)
                for row in candidates[:limit]]

    def item(self, memory_id: str, neighbours: int = DEFAULT_NEIGHBOURS) -> ReviewItem:
        """One candidate with its evidence and neighbours (for a detail view)."""
        row = self._candidate(memory_id, "review")
        live = self.memories.live_pool()
        matrix = self.memories.vectors.matrix("memory/live", [(r.id, r.content) for r in live])
        position = {r.id: i for i, r in enumerate(live)}
        candidates = [r for r in live if r.status == MemoryStatus.CANDIDATE]
        score = self._evidence_scores([row], matrix, position, among=candidates)
        return self._item(row, score[row.id], live, matrix, position, validate_limit(neighbours, MAX_NEIGHBOURS))

    def count(self, project: str | None = None) -> int:
        query = Memory.select().where(Memory.status == MemoryStatus.CANDIDATE)
        if project is not None:
            query = query.where(Memory.project == self.memories.project_id(project))
        return query.count()

    # ------------------------------------------------------------- decisions
    def promote(self, memory_id: str, actor: str = "user") -> MemoryRecord:
        return self.memories.change(memory_id, "promote", actor=actor, allowed_statuses=REVIEWABLE,
                                    status=MemoryStatus.ACTIVE)

    def reject(self, memory_id: str, actor: str = "user") -> MemoryRecord:
        return self.memories.change(memory_id, "reject", actor=actor, allowed_statuses=REVIEWABLE,
                                    status=MemoryStatus.INVALID)

    def edit_and_promote(self, memory_id: str, content: str | None = None, memory_type: str | None = None,
                         confidence: float | None = None, actor: str = "user") -> MemoryRecord:
        edits = {name: value for name, value in
                 (("content", content), ("memory_type", memory_type), ("confidence", confidence))
                 if value is not None}
        return self.memories.change(memory_id, "edit_and_promote", actor=actor, allowed_statuses=REVIEWABLE,
                                    status=MemoryStatus.ACTIVE, **edits)

    def merge(self, candidate_id: str, into_id: str, content: str | None = None,
              actor: str = "user") -> MemoryRecord:
        """The existing memory absorbs the candidate (see MemoryService.merge)."""
        candidate = self._candidate(candidate_id, "merge")
        return self.memories.merge(candidate.id, into_id, content=content, actor=actor)

    def supersede(self, candidate_id: str, old_id: str, actor: str = "user") -> MemoryRecord:
        """The candidate becomes active and replaces the older memory."""
        candidate = self._candidate(candidate_id, "supersede with")
        return self.memories.supersede(old_id, actor=actor, replacement_id=candidate.id)

    # ------------------------------------------------------------- internals
    def _candidate(self, memory_id: str, verb: str) -> Memory:
        row = self.memories.row(memory_id)
        require_status(row, REVIEWABLE, verb)
        return row

    def _evidence_scores(self, candidates: list[Memory], matrix: np.ndarray, position: dict[str, int],
                         among: list[LiveMemory] | list[Memory] | None = None) -> dict[str, int]:
        """Per candidate: 1 for a source interaction, +1 per other candidate
        (of ``among``, default the candidates given) that likely duplicates it."""
        among = candidates if among is None else among
        scores = {row.id: int(bool(row.source_interaction)) for row in candidates}
        if not candidates or not among:
            return scores
        mine = matrix[[position[r.id] for r in candidates]]
        theirs = matrix[[position[r.id] for r in among]]
        similarity = mine @ theirs.T
        for i, j in zip(*np.nonzero(similarity >= DUPLICATE_THRESHOLD), strict=False):
            a, b = candidates[i], among[j]
            if a.id != b.id and duplicate_score(float(similarity[i, j]), a.content, b.content) >= DUPLICATE_THRESHOLD:
                scores[a.id] += 1
        return scores

    def _item(self, row: Memory, score: int, live: list[LiveMemory], matrix: np.ndarray,
              position: dict[str, int], neighbours: int) -> ReviewItem:
        found: list[Neighbour] = []
        if neighbours and live:
            similarities = matrix @ matrix[position[row.id]]
            if row.project:  # a project's candidate meets its project's and cross-project memories
                similarities[[m.project not in (row.project, "") for m in live]] = -np.inf
            ranked = rank_neighbours(row.content, live, similarities, neighbours, exclude={row.id})
            records = self.memories.records([memory_id for memory_id, _ in ranked])
            found = [Neighbour(memory, score_, score_ >= DUPLICATE_THRESHOLD)
                     for memory, (_, score_) in zip(records, ranked, strict=False)]
        return ReviewItem(MemoryRecord.from_row(row), _evidence(row), score, found)


def _evidence(row: Memory) -> Evidence | None:
    if not row.source_interaction:
        return None
    interaction = Interaction.get_or_none(Interaction.id == row.source_interaction)
    if interaction is None:
        return None
    quote, where = _best_sentence(row.content, interaction.prompt or "", interaction.response or "")
    return Evidence(interaction_id=interaction.id, created_at=interaction.created_at,
                    project=interaction.project, client=interaction.client,
                    prompt=_excerpt(interaction.prompt or ""), response=_excerpt(interaction.response or ""),
                    quote=_excerpt(quote), quote_from=where)


def _best_sentence(content: str, prompt: str, response: str) -> tuple[str, str]:
    """The sentence of the prompt or response that shares most tokens with the
    candidate (the first on ties, prompt before response); ``("", "")`` if none."""
    wanted = reinforcement.tokens(content)
    best: tuple[float, str, str] = (0.0, "", "")
    for where, text in (("prompt", prompt), ("response", response)):
        for sentence in _SENTENCE_END.split(text):
            share = reinforcement.overlap(wanted, reinforcement.tokens(sentence))
            if share > best[0]:
                best = (share, sentence.strip(), where)
    return best[1], best[2]


def _excerpt(text: Any) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS - 1].rstrip() + "…"
