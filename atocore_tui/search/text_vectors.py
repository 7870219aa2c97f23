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
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..heap import settle
from .terms import stems

_VOCABULARY: dict[str, int] = {}
"""Stem -> a small integer, for the collections' inverted indexes (grows with
the vocabulary of the texts seen; a stem keeps its number for the process)."""
_VOCABULARY_LOCK = threading.Lock()


def _number(stem: str) -> int:
    found = _VOCABULARY.get(stem)
    if found is None:
        with _VOCABULARY_LOCK:
            found = _VOCABULARY.setdefault(stem, len(_VOCABULARY))
    return found


@lru_cache(maxsize=32_768)
def stem_numbers(text: str) -> np.ndarray:
    """The numbers of a text's distinct stems (cached: a collection is rebuilt
    from the same texts after every write to its rows)."""
    numbers = np.fromiter((_number(stem) for stem in stems(text)), dtype=np.int64)
    numbers.setflags(write=False)
    return numbers


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
            matrix = self._stacked(items)
            self._views[view] = (items, matrix)
            return matrix

    def stacked(self, items: Sequence[tuple[str, str]]) -> np.ndarray:
        """As :meth:`matrix`, for a few items that belong to no view (a patch's)."""
        with self._lock:
            return self._stacked(items)

    def _stacked(self, items: Sequence[tuple[str, str]]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        missing = [(key, text) for key, text in items if self._vectors.get(key, ("",))[0] != text]
        if missing:
            encoded = self.embedder.encode([text for _, text in missing])
            for (key, text), vector in zip(missing, encoded, strict=True):
                self._vectors[key] = (text, vector)
        return np.stack([self._vectors[key][1] for key, _ in items])

    def forget(self, view: str) -> None:
        """Drop a view's stacked matrix (its collection was patched instead)."""
        with self._lock:
            self._views.pop(view, None)

    def encode(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]


MEANING_WEIGHT = 0.6
"""Relevance = MEANING_WEIGHT * cosine + (1 - MEANING_WEIGHT) * term coverage."""


class TextCollection:
    """A cached set of short texts ready for relevance scoring: their vectors
    (one matrix) and an inverted index of their term stems, so scoring a prompt
    against tens of thousands of texts is two vector operations, not a loop."""

    def __init__(self, rows: list[tuple], texts: list[str], matrix: np.ndarray):
        self.rows = rows
        self.matrix = matrix
        # The inverted index as two arrays sorted by stem number: which stem,
        # which text. Built with numpy from cached per-text numbers, because a
        # collection is rebuilt after every write (6,000 memories: the loop
        # over every stem of every text it replaced took ~8 ms).
        numbers = [stem_numbers(text) for text in texts]
        lengths = np.fromiter(map(len, numbers), dtype=np.int64, count=len(numbers))
        flat = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)
        owners = np.repeat(np.arange(len(numbers), dtype=np.int64), lengths)
        order = np.argsort(flat, kind="stable")
        self._stems = flat[order]
        self._owners = owners[order]
        self._columns: dict[int, np.ndarray] = {}

    def patched(self, changed: frozenset, rows: list[tuple], texts: list[str], matrix: np.ndarray,
                order: Callable[[tuple], Any]) -> TextCollection:
        """This collection with the rows whose id (field 0) is in ``changed``
        replaced by ``rows`` (their current state; an id absent from ``rows``
        has left), every row in the place ``order`` gives it among the others.

        The result equals a collection built from scratch on the same rows in
        the same order; only the touched rows' stems are looked up. The cost
        is a few copies of arrays, where a reload re-read, re-stacked and
        re-indexed every row (9,000 memories: ~12 ms per view, down to ~2).
        """
        keep = np.fromiter((row[0] not in changed for row in self.rows), dtype=bool, count=len(self.rows))
        kept = [row for row, kept in zip(self.rows, keep, strict=True) if kept]
        arrival = sorted(range(len(rows)), key=lambda i: order(rows[i]))
        # where each new row goes among the kept ones, then everyone's new place
        at = np.array([bisect_left(kept, order(rows[i]), key=order) for i in arrival], dtype=np.int64)
        kept_places = np.arange(len(kept)) + np.searchsorted(at, np.arange(len(kept)), side="right")
        new_places = at + np.arange(len(at))
        size = len(kept) + len(rows)
        source = np.empty(size, dtype=np.int64)  # new place -> index into kept + arrivals
        source[kept_places] = np.arange(len(kept))
        source[new_places] = len(kept) + np.asarray(arrival, dtype=np.int64)
        pooled = kept + rows
        patched = TextCollection.__new__(TextCollection)
        patched.rows = [pooled[i] for i in source]
        # the new matrix written in place: one allocation of its size (a view of
        # 18,000 memories is 18 MB; taking, joining and reordering copies made
        # three, and a server's heap swung by that much on every write)
        patched.matrix = np.empty((size, self.matrix.shape[1]), dtype=self.matrix.dtype)
        patched.matrix[kept_places] = self.matrix if keep.all() else self.matrix[keep]
        patched.matrix[new_places] = matrix[arrival]
        # the inverted index: the kept rows' entries renumbered, the new rows' added
        renumbered = np.full(len(self.rows), -1, dtype=np.int64)
        renumbered[np.flatnonzero(keep)] = kept_places
        staying = keep[self._owners]
        stems, owners = self._stems[staying], renumbered[self._owners[staying]]
        numbers = [stem_numbers(texts[i]) for i in arrival]
        if numbers:
            added = np.concatenate(numbers)
            added_owners = np.repeat(new_places, [len(n) for n in numbers])
            ranked = np.argsort(added, kind="stable")  # np.insert keeps values at one place in given order
            added, added_owners = added[ranked], added_owners[ranked]
            where = np.searchsorted(stems, added, side="right")
            stems, owners = np.insert(stems, where, added), np.insert(owners, where, added_owners)
        patched._stems, patched._owners = stems, owners
        patched._columns = {}
        return patched

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
        if not self.rows:
            return np.zeros(0, dtype=np.float32)
        similarity = self.matrix @ query_vector
        wanted = stems(prompt)
        known = np.array([_VOCABULARY[s] for s in wanted if s in _VOCABULARY], dtype=np.int64)
        coverage = np.zeros(len(self.rows), dtype=np.float32)
        if known.size:
            starts = np.searchsorted(self._stems, known, side="left")
            ends = np.searchsorted(self._stems, known, side="right")
            hits = [self._owners[a:b] for a, b in zip(starts, ends, strict=True) if b > a]
            if hits:
                coverage = np.bincount(np.concatenate(hits), minlength=len(self.rows)).astype(np.float32)
                coverage /= len(wanted)
        return MEANING_WEIGHT * similarity + (1.0 - MEANING_WEIGHT) * coverage


SETTLE_ABOVE = 5_000
"""A collection of more rows than this is a long-lived mass of objects: once
built, the heap is settled (:func:`atocore_tui.heap.settle`): at 100k chunks
pack p99 43.0 / 51.8 -> 30.5 / 31.1 ms, the slowest 77 / 67 -> 33 / 36 ms."""


@dataclass(frozen=True)
class Changes:
    """What changed in a view's rows since a signature: the ids of every row
    touched, and the rows those ids have now (``items``: their ``(id, text)``)."""

    ids: frozenset
    rows: list[tuple]
    items: list[tuple[str, str]]


def collection(vectors: TextVectors, cache: dict, view: str, signature, load,
               changes: Callable[[Any], Changes | None] | None = None,
               order: Callable[[tuple], Any] | None = None) -> TextCollection:
    """The cached collection for ``view`` while ``signature`` (a cheap summary of
    the rows, e.g. the newest audit id and a count) is unchanged; else reload.

    ``load()`` returns ``(rows, [(id, text), ...])`` sorted by ``order`` (a key
    of a row). Where ``changes(old_signature)`` can say which rows changed
    since the cached collection's signature, the collection is patched instead
    of reloaded (None: it cannot, reload).
    """
    cached = cache.get(view)
    if cached is not None and cached[0] == signature:
        return cached[1]
    if cached is not None and changes is not None and order is not None:
        found = changes(cached[0])
        if found is not None:
            patched = cached[1].patched(found.ids, found.rows, [text for _, text in found.items],
                                        vectors.stacked(found.items), order)
            vectors.forget(view)
            cache[view] = (signature, patched)
            return patched
    rows, items = load()
    matrix = vectors.matrix(view, items)
    built = TextCollection(rows, [text for _, text in items], matrix)
    cache[view] = (signature, built)
    if len(rows) > SETTLE_ABOVE:
        settle()
    return built
