"""Hybrid retrieval: BM25 and vector candidates fused by reciprocal rank.

Neither list alone is good enough: the small static model misses exact terms
(part numbers, alloys), BM25 misses paraphrase. Reciprocal rank fusion needs no
score calibration between the two and is what ``bench/retrieval_eval.py``
measures against each alone. A project hint multiplies the fused score of
chunks that belong to the project (document project, or the project's names in
path, title or tags); near-identical chunks are dropped, keeping the best.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
from peewee import SqliteDatabase

from ..config import RetrievalSettings
from ..store import fts
from .terms import query_terms
from .vectors import ChunkVectors


@dataclass
class Hit:
    chunk_id: str
    content: str
    score: float
    heading_path: str
    source_file: str
    title: str
    source: str = ""
    project: str = ""
    tags: list[str] = field(default_factory=list)
    line_start: int = 0
    line_end: int = 0
    lexical_rank: int | None = None
    vector_rank: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RetrievalRequest:
    prompt: str
    top_k: int = 10
    project: str | None = None
    """A hint: chunks of this project are boosted (not filtered)."""
    project_names: Sequence[str] = ()
    """The project's id and aliases, matched against path, title and tags."""
    tags: Sequence[str] = ()
    only_project: bool = False
    """Filter to the project's documents instead of boosting them."""


def _mentions(text: str, names: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(re.search(r"(?<![\w])" + re.escape(n.lower()) + r"(?![\w])", lowered) for n in names if n)


class Retriever:
    def __init__(self, db: SqliteDatabase, vectors: ChunkVectors, settings: RetrievalSettings):
        self.db = db
        self.vectors = vectors
        self.settings = settings

    def retrieve(self, request: RetrievalRequest, *, lexical: bool = True,
                 vector: bool = True) -> list[Hit]:
        prompt = request.prompt.strip()
        if not prompt or request.top_k <= 0:
            return []
        tags = [t.strip().lstrip("#").lower() for t in request.tags if t.strip()]
        filter_project = request.project if request.only_project else None
        pool = max(self.settings.candidates, request.top_k * 3)
        k = self.settings.rrf_k
        fused: dict[int, float] = {}
        lexical_rank: dict[int, int] = {}
        vector_rank: dict[int, int] = {}

        if lexical:
            terms = self.affordable_terms(query_terms(prompt))
            for rank, (key, _) in enumerate(
                    fts.search(self.db, terms, pool, project=filter_project, tags=tags)):
                lexical_rank[key] = rank + 1
                fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank + 1)
        query_vector = None
        if vector:
            self.vectors.ensure()
            query_vector = self.vectors.embedder.encode([prompt])[0]
            filtered = bool(filter_project or tags)
            found = self.vectors.search(query_vector, pool * (4 if filtered else 1))
            if filtered:
                allowed = fts.keys_passing_filters(self.db, [key for key, _ in found],
                                                   project=filter_project, tags=tags)
                found = [(key, sim) for key, sim in found if key in allowed][:pool]
            for rank, (key, _) in enumerate(found):
                vector_rank[key] = rank + 1
                fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank + 1)
        if not fused:
            return []

        rows = fts.chunk_rows(self.db, list(fused))
        fused = {key: score for key, score in fused.items() if key in rows}
        boost = self.settings.project_boost if request.project else 0.0
        names = [n for n in (request.project, *request.project_names) if n]
        if boost:
            for key in fused:
                row = rows[key]
                if (row.project == request.project or _mentions(row.path, names)
                        or _mentions(row.title, names) or any(t in names for t in row.tags)):
                    fused[key] *= 1.0 + boost
        best_possible = (int(lexical) + int(vector)) / (k + 1) * (1.0 + boost)
        ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))

        kept = self._without_duplicates(ordered, rows, request.top_k)
        hits = []
        for key, score in kept:
            row = rows[key]
            hits.append(Hit(
                chunk_id=row.chunk_id, content=row.content, score=round(score / best_possible, 4),
                heading_path=row.heading_path, source_file=row.path, title=row.title,
                source=row.source, project=row.project, tags=list(row.tags),
                line_start=row.line_start, line_end=row.line_end,
                lexical_rank=lexical_rank.get(key), vector_rank=vector_rank.get(key)))
        return hits

    def affordable_terms(self, terms: list[str]) -> list[str]:
        """The query's terms less the most common ones, until the chunks they
        appear in fit ``retrieval.max_postings`` (BM25 scores every matching
        chunk, so a few very common words would make a query on a big vault
        slow while adding little to the ranking). Rarer terms stay first."""
        if len(terms) < 2:
            return terms
        frequencies = fts.document_frequencies(self.db, terms)
        if sum(frequencies.values()) <= self.settings.max_postings:
            return terms
        kept = sorted(terms, key=lambda t: (frequencies[t], terms.index(t)))
        while len(kept) > 1 and sum(frequencies[t] for t in kept) > self.settings.max_postings:
            kept.pop()
        return kept

    def _without_duplicates(self, ordered: list[tuple[int, float]], rows: dict, top_k: int):
        """Walk best-first, dropping chunks identical or nearly so to a kept one."""
        threshold = self.settings.duplicate_similarity
        window = ordered[: top_k * 3]
        vectors = self.vectors.vectors_of([key for key, _ in window])
        kept: list[tuple[int, float]] = []
        kept_vectors: list[np.ndarray] = []
        kept_hashes: set[str] = set()
        for key, score in window:
            row = rows[key]
            if row.content_hash in kept_hashes:
                continue
            vector = vectors.get(key)
            if vector is not None and kept_vectors:
                norm = float(np.linalg.norm(vector)) or 1.0
                similarities = np.stack(kept_vectors) @ (vector / norm)
                if float(similarities.max()) >= threshold:
                    continue
            kept.append((key, score))
            kept_hashes.add(row.content_hash)
            if vector is not None:
                kept_vectors.append(vector / (float(np.linalg.norm(vector)) or 1.0))
            if len(kept) == top_k:
                break
        return kept
