"""Embeddings of short texts (memories, state entries, entities), cached.

Vectors are kept per id together with the text they were computed from, so an
edit makes the old vector a miss rather than a stale hit; only missing vectors
are encoded, in one batch. The stacked matrix of the last call per *view*
(e.g. "memory/identity") is kept too: a context pack rebuilt as the user types
asks for the same rows again and again, and re-stacking thousands of vectors
would dominate its cost.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np


class TextVectors:
    def __init__(self, embedder):
        self.embedder = embedder
        self._vectors: dict[str, tuple[str, np.ndarray]] = {}
        self._views: dict[str, tuple[tuple, np.ndarray]] = {}
        self._lock = threading.Lock()

    def matrix(self, view: str, items: Sequence[tuple[str, str]]) -> np.ndarray:
        """L2-normalised vectors for ``(id, text)`` items, one row each, in order."""
        items = tuple(items)
        with self._lock:
            cached = self._views.get(view)
            if cached is not None and cached[0] == items:
                return cached[1]
            if not items:
                return np.zeros((0, self.embedder.dim), dtype=np.float32)
            missing = [(key, text) for key, text in items if self._vectors.get(key, ("",))[0] != text]
            if missing:
                encoded = self.embedder.encode([text for _, text in missing])
                for (key, text), vector in zip(missing, encoded, strict=True):
                    self._vectors[key] = (text, vector)
            matrix = np.stack([self._vectors[key][1] for key, _ in items])
            self._views[view] = (items, matrix)
            return matrix

    def encode(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]


MEANING_WEIGHT = 0.6
"""Relevance = MEANING_WEIGHT * cosine + (1 - MEANING_WEIGHT) * term coverage."""


class TextCollection:
    """A cached set of short texts ready for relevance scoring: their vectors
    (one matrix) and an inverted index of their term stems, so scoring a prompt
    against tens of thousands of texts is two vector operations, not a loop."""

    def __init__(self, rows: list[tuple], texts: list[str], matrix: np.ndarray):
        from .terms import stems

        self.rows = rows
        self.matrix = matrix
        postings: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            for stem in stems(text):
                postings.setdefault(stem, []).append(index)
        self.postings = {stem: np.asarray(ids, dtype=np.int64) for stem, ids in postings.items()}
        self._columns: dict[int, np.ndarray] = {}

    def column(self, index: int, dtype=np.float32) -> np.ndarray:
        """Field ``index`` of every row as an array (computed once per collection)."""
        if index not in self._columns:
            self._columns[index] = np.fromiter((row[index] for row in self.rows), dtype=dtype,
                                               count=len(self.rows))
        return self._columns[index]

    def __len__(self) -> int:
        return len(self.rows)

    def relevance(self, prompt: str, query_vector: np.ndarray) -> np.ndarray:
        """Per text: the one blend of meaning (cosine) and wording (share of the
        prompt's terms it contains)."""
        from .terms import stems

        if not self.rows:
            return np.zeros(0, dtype=np.float32)
        similarity = self.matrix @ query_vector
        wanted = stems(prompt)
        hits = [self.postings[s] for s in wanted if s in self.postings]
        coverage = np.zeros(len(self.rows), dtype=np.float32)
        if hits:
            coverage = np.bincount(np.concatenate(hits), minlength=len(self.rows)).astype(np.float32)
            coverage /= len(wanted)
        return MEANING_WEIGHT * similarity + (1.0 - MEANING_WEIGHT) * coverage


def collection(vectors: TextVectors, cache: dict, view: str, signature, load) -> TextCollection:
    """The cached collection for ``view`` while ``signature`` (a cheap summary of
    the rows, e.g. the newest audit id and a count) is unchanged; else reload.

    ``load()`` returns ``(rows, [(id, text), ...])``.
    """
    cached = cache.get(view)
    if cached is not None and cached[0] == signature:
        return cached[1]
    rows, items = load()
    matrix = vectors.matrix(view, items)
    built = TextCollection(rows, [text for _, text in items], matrix)
    cache[view] = (signature, built)
    return built
