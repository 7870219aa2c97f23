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
from typing import Sequence

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
                for (key, text), vector in zip(missing, encoded):
                    self._vectors[key] = (text, vector)
            matrix = np.stack([self._vectors[key][1] for key, _ in items])
            self._views[view] = (items, matrix)
            return matrix

    def encode(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]
