"""Hybrid retrieval: full text, the static model and the semantic model, fused.

Neither side alone is good enough: vectors miss exact terms (part numbers,
alloys), BM25 misses paraphrase. Each side lists its best candidates; every
candidate is then scored by every side (BM25 restricted to the candidates,
cosines from the stored vectors), each side's scores are standardised against
its own best answers, and a weighted sum ranks them (``_fuse``; the choice
against reciprocal rank fusion and the weights are measured in
docs/retrieval.md). A project hint adds to the fused score of chunks that
belong to the project (document project, or the project's names in path,
title or tags); near-identical chunks are dropped, keeping the best.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import cast

import numpy as np
from peewee import SqliteDatabase

from ..config import RetrievalSettings
from ..store import fts
from .semantic_pass import SemanticVectors, text_hash
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
    semantic_rank: int | None = None

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


_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="semantic-query")
"""Encodes prompts with the semantic model beside the full-text search."""

MAX_QUERY_TERMS = 64
"""A prompt's first distinct terms that the full-text side matches (a pasted
page would otherwise make one huge OR)."""
LEXICAL_SCORED = 400
"""How many full-text matches are listed with their BM25 per query: the other
sides' candidates are mostly among them (Cranfield: the same nDCG as with
1,000, 1 ms less per query at 5k passages)."""


class _Signal:
    """One side's ranked list and its scores for every candidate."""

    def __init__(self, name: str, found: list[tuple[int, float]], pool: int, depth: int, floor: int = 0):
        """``floor``: how many more chunks (up to ``depth``) score 0 on this
        side because they match nothing; they belong to the population the
        scores are standardised against (else two near-equal matches in a
        small vault would stand two standard deviations apart)."""
        self.name = name
        self.found = found
        self.top = [key for key, _ in found[:pool]]
        self.scores: dict[int, float] = dict(found)
        values = np.array([score for _, score in found[:depth]] + [0.0] * max(0, min(floor, depth - len(found))),
                          dtype=np.float64)
        self.mean = float(values.mean()) if len(values) else 0.0
        self.spread = float(values.std()) if len(values) > 1 else 0.0
        if self.spread < 1e-9:
            self.spread = max(abs(self.mean), 1.0)

    def z(self, key: int) -> float:
        return (self.scores.get(key, 0.0) - self.mean) / self.spread

    def ranks(self) -> dict[int, int]:
        return {key: rank for rank, (key, _) in enumerate(self.found, 1)}


def _cosines(query: np.ndarray, vectors: dict[int, np.ndarray]) -> dict[int, float]:
    if not vectors:
        return {}
    keys = list(vectors)
    matrix = np.stack([vectors[k] for k in keys]).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    return dict(zip(keys, (matrix @ query / norms).tolist(), strict=True))


def _row_hash(row) -> int:
    return text_hash(row.content_hash)


class Retriever:
    def __init__(self, db: SqliteDatabase, vectors: ChunkVectors, settings: RetrievalSettings,
                 semantic: SemanticVectors | None = None):
        self.db = db
        self.vectors = vectors
        self.semantic = semantic
        self.settings = settings
        self._df_cache: dict[str, int] = {}
        self._df_version: int | None = None
        self._count: int | None = None

    @property
    def _semantic(self) -> SemanticVectors:
        """The semantic vectors, where semantic scoring runs (only when they are set)."""
        return cast(SemanticVectors, self.semantic)

    def retrieve(self, request: RetrievalRequest, *, lexical: bool = True,
                 vector: bool = True, semantic: bool | None = None) -> list[Hit]:
        prompt = request.prompt.strip()
        if not prompt or request.top_k <= 0:
            return []
        tags = [t.strip().lstrip("#").lower() for t in request.tags if t.strip()]
        filter_project = request.project if request.only_project else None
        filtered = bool(filter_project or tags)
        pool = max(self.settings.candidates, request.top_k * 3)
        depth = max(self.settings.norm_depth, pool)
        if semantic is None:
            semantic = vector and self.settings.semantic and self.semantic is not None and self.semantic.usable()

        signals: list[_Signal] = []
        lexical_complete = False
        self._sync()
        # The semantic model (onnxruntime) and full-text search (SQLite) both
        # release the GIL: encoding the prompt in a second thread while FTS5
        # ranks overlaps the two largest costs of a query on two cores.
        semantic_job = _EXECUTOR.submit(self._semantic.encoder.encode, [prompt]) if semantic else None
        # Once every chunk has its semantic vector, the static model has nothing to stand in for.
        static = vector and not (semantic and self._semantic.complete(self._df_version))
        # The static side (its model, then usearch) runs beside the full-text search too.
        # (No SQLite in that thread: the engine closes only its own connections.)
        static_job = None
        if static:
            self.vectors.ensure()
            static_job = _EXECUTOR.submit(self._static_side, prompt, depth * (4 if filtered else 1))
        if lexical:
            any_of, all_of = self.affordable_terms(query_terms(prompt)[:MAX_QUERY_TERMS])
            found = fts.search(self.db, any_of, LEXICAL_SCORED, project=filter_project, tags=tags,
                               all_of=all_of)
            lexical_complete = len(found) < LEXICAL_SCORED
            unmatched = self._chunk_count() - len(found) if lexical_complete else 0
            signals.append(_Signal("lexical", found, pool, depth, floor=unmatched))
        if static_job is not None:
            static_query, static_found = static_job.result()
            static_found = self._filtered(static_found, filter_project, tags, depth)
            signals.append(_Signal("static", static_found, pool, depth))
        if semantic_job is not None:
            semantic_query = semantic_job.result()[0]
            found = self._filtered(self._semantic.search(semantic_query, depth * (4 if filtered else 1)),
                                   filter_project, tags, depth)
            signals.append(_Signal("semantic", found, pool, depth))
        candidates = {key for signal in signals for key in signal.top}
        if not candidates:
            return []
        rows = fts.chunk_rows(self.db, list(candidates))
        keys = [key for key in candidates if key in rows]
        if not keys:
            return []

        # Every signal scores every candidate, so no candidate is ranked on a
        # guess for the side that did not list it.
        for signal in signals:
            missing = [k for k in keys if k not in signal.scores]
            if not missing:
                continue
            if signal.name == "lexical":
                # Every chunk that matches is listed (up to LEXICAL_SCORED): one
                # not listed matches no term (0), or ranks below the last one.
                floor = 0.0 if lexical_complete else signal.found[-1][1]
                signal.scores.update((k, floor) for k in missing)
            elif signal.name == "static":
                signal.scores.update(_cosines(static_query, self.vectors.vectors_of(missing)))
            else:
                signal.scores.update(_cosines(semantic_query, self._semantic.vectors_of(missing)))
        fused = self._fuse(signals, keys, rows)

        boost = self.settings.project_boost if request.project else 0.0
        names = [n for n in (request.project, *request.project_names) if n]
        pattern = _names_pattern(names)
        if boost and pattern is not None:
            for key in keys:
                row = rows[key]
                if (row.project == request.project or pattern.search(row.path.lower())
                        or pattern.search(row.title.lower()) or any(t in names for t in row.tags)):
                    fused[key] += boost
        ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        kept = self._without_duplicates(ordered, rows, request.top_k)
        ranks = {signal.name: signal.ranks() for signal in signals}
        hits = []
        for key, score in kept:
            row = rows[key]
            hits.append(Hit(
                chunk_id=row.chunk_id, content=row.content, score=round(1.0 / (1.0 + math.exp(-score)), 4),
                heading_path=row.heading_path, source_file=row.path, title=row.title,
                source=row.source, project=row.project, tags=list(row.tags),
                line_start=row.line_start, line_end=row.line_end,
                lexical_rank=ranks.get("lexical", {}).get(key),
                vector_rank=ranks.get("static", {}).get(key),
                semantic_rank=ranks.get("semantic", {}).get(key)))
        return hits

    def _static_side(self, prompt: str, count: int) -> tuple[np.ndarray, list[tuple[int, float]]]:
        """The prompt's static vector and the static index's ``count`` nearest chunks."""
        query = self.vectors.embedder.encode([prompt])[0]
        return query, self.vectors.search(query, count)

    def _filtered(self, found: list[tuple[int, float]], project: str | None, tags: list[str],
                  limit: int) -> list[tuple[int, float]]:
        if not (project or tags):
            return found[:limit]
        allowed = fts.keys_passing_filters(self.db, [key for key, _ in found], project=project, tags=tags)
        return [(key, sim) for key, sim in found if key in allowed][:limit]

    def _fuse(self, signals: list[_Signal], keys: list[int], rows: dict) -> dict[int, float]:
        """One score per candidate: a weighted sum of the sides' z-scores.

        Each side's scores are standardised against its own best
        ``norm_depth`` answers, so a score says how far a chunk stands above
        what that side finds for this query: comparable across sides without
        calibration. The lexical side weighs ``lexical_weight`` and the vector
        side the rest, each then scaled by how far its own best answer stands
        out (its top z-score, to the power ``adaptive_power``): a side that
        separates one answer sharply is sure of something on this query, one
        whose best is barely above the crowd is guessing. The vector side is
        the semantic model where its vector covers the chunk's current text,
        the static model elsewhere (before the background pass reached it).
        """
        by_name = {signal.name: signal for signal in signals}
        lexical = by_name.get("lexical")
        semantic, static = by_name.get("semantic"), by_name.get("static")
        vector = semantic or static
        covered = self._semantic.covered if semantic is not None else {}
        lexical_weight = self.settings.lexical_weight if lexical is not None else 0.0
        if lexical is not None and vector is not None and self.settings.adaptive_power > 0:
            power = self.settings.adaptive_power
            sure_lexical = max(lexical.z(lexical.found[0][0]), 0.1) ** power if lexical.found else 0.0
            sure_vector = max(vector.z(vector.found[0][0]), 0.1) ** power if vector.found else 0.0
            total = lexical_weight * sure_lexical + (1 - lexical_weight) * sure_vector
            if total > 0:
                lexical_weight = lexical_weight * sure_lexical / total
        # The static model is the weaker side: where it stands in, BM25 keeps a larger share.
        static_lexical = self.settings.static_lexical_weight if lexical is not None else 0.0
        fused: dict[int, float] = {}
        for key in keys:
            lexical_z = lexical.z(key) if lexical is not None else 0.0
            if semantic is not None and key in semantic.scores and covered.get(key) == _row_hash(rows[key]):
                score = lexical_weight * lexical_z + (1.0 - lexical_weight) * semantic.z(key)
            elif static is not None:
                score = static_lexical * lexical_z + (1.0 - static_lexical) * static.z(key)
            elif semantic is not None:
                score = lexical_weight * lexical_z + (1.0 - lexical_weight) * semantic.z(key)
            else:
                score = lexical_z
            fused[key] = score
        return fused

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

    def _sync(self) -> None:
        """Forget cached frequencies and counts when the chunks changed (once per query)."""
        from .vectors import chunks_version

        version = chunks_version()
        if self._df_version != version:
            self._df_cache, self._df_version, self._count = {}, version, None

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """Document frequencies, cached until the chunks change (see :meth:`_sync`)."""
        missing = [t for t in terms if t not in self._df_cache]
        if missing:
            self._df_cache.update(fts.document_frequencies(self.db, missing, self._chunk_count()))
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
