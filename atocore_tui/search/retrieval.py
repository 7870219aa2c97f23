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


def _names_pattern(names: Sequence[str]) -> re.Pattern | None:
    """One pattern that finds any of a project's names as a whole word."""
    names = [re.escape(n.lower()) for n in names if n]
    return re.compile(r"(?<![\w])(?:" + "|".join(names) + r")(?![\w])") if names else None


class Retriever:
    def __init__(self, db: SqliteDatabase, vectors: ChunkVectors, settings: RetrievalSettings):
        self.db = db
        self.vectors = vectors
        self.settings = settings
        self._df_cache: dict[str, int] = {}
        self._df_version: int | None = None
        self._count: int | None = None

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
            any_of, all_of = self.affordable_terms(query_terms(prompt))
            for rank, (key, _) in enumerate(
                    fts.search(self.db, any_of, pool, project=filter_project, tags=tags, all_of=all_of)):
                lexical_rank[key] = rank + 1
                fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank + 1)
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
        pattern = _names_pattern(names)
        if boost and pattern is not None:
            for key in fused:
                row = rows[key]
                if (row.project == request.project or pattern.search(row.path.lower())
                        or pattern.search(row.title.lower()) or any(t in names for t in row.tags)):
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

    def affordable_terms(self, terms: list[str]) -> tuple[list[str], list[str]]:
        """The match to run within ``retrieval.max_postings``: (any of, all of).

        BM25 scores every chunk the match selects, so on a big vault a few very
        common words would make a query slow while adding little to the
        ranking. Terms no chunk contains are dropped; then the rarest terms are
        OR-ed while the chunks they appear in fit the budget. When even the
        rarest term alone is over it, the rarest terms are AND-ed instead, as
        many as it takes for their expected overlap to fit. Small vaults never
        reach the budget and keep every term.
        """
        if len(terms) < 2:
            return terms, []
        frequencies = self._frequencies(terms)
        budget = self.settings.max_postings
        present = sorted((t for t in terms if frequencies[t] > 0),
                         key=lambda t: (frequencies[t], terms.index(t)))
        if not present:
            return terms, []
        if sum(frequencies[t] for t in present) <= budget:
            return present, []
        any_of: list[str] = []
        for term in present:
            if any_of and sum(frequencies[t] for t in any_of) + frequencies[term] > budget:
                break
            any_of.append(term)
        if frequencies[any_of[0]] <= budget or len(present) < 2:
            return any_of, []
        total = max(self._chunk_count(), 1)
        expected = float(total)
        all_of: list[str] = []
        for term in present:
            all_of.append(term)
            expected *= frequencies[term] / total
            if len(all_of) >= 2 and expected <= budget:
                break
        return [], all_of

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """Document frequencies, cached until the chunks change."""
        from .vectors import chunks_version

        version = chunks_version()
        if self._df_version != version:
            self._df_cache, self._df_version, self._count = {}, version, None
        missing = [t for t in terms if t not in self._df_cache]
        if missing:
            self._df_cache.update(fts.document_frequencies(self.db, missing))
        return {t: self._df_cache[t] for t in terms}

    def _chunk_count(self) -> int:
        if self._count is None:
            self._count = int(self.db.execute_sql("SELECT count(*) FROM chunk").fetchone()[0])
        return self._count

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
