"""Chunk vectors: the usearch index kept in step with the chunk table.

The store counts every change to chunks in ``meta.chunks_version`` (bumped in
the writing transaction). The index remembers which version it reflects. When
they differ and no ingestion is running, the index is stale (a crash between
commit and save, or a file from elsewhere) and is rebuilt from the database.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..config import IndexSettings
from ..errors import Busy
from ..locks import ingest_lock
from ..store import Chunk, get_meta
from .embedding import Embedder, embedding_text
from .index import VectorIndex

CHUNKS_VERSION = "chunks_version"
REBUILD_BATCH = 4096

Progress = Callable[[int, int, str], None]


def chunks_version() -> int:
    return int(get_meta(CHUNKS_VERSION, "0") or 0)


class ChunkVectors:
    def __init__(self, data_dir: Path, embedder: Embedder, settings: IndexSettings):
        self.data_dir = data_dir
        self.embedder = embedder
        self.index = VectorIndex(data_dir / "index", "chunks", dtype=settings.dtype,
                                 connectivity=settings.connectivity,
                                 expansion_add=settings.expansion_add,
                                 expansion_search=settings.expansion_search,
                                 exact_below=settings.exact_below)
        self.version = -1
        """The chunks_version that the in-memory index reflects."""
        self.writers = 0
        """In-process writers (ingestions) in progress; they keep the index current."""
        self.last_rebuild: str | None = None

    def _identity(self) -> tuple[str, str, int]:
        self.embedder.load()
        return self.embedder.name, self.embedder.fingerprint, self.embedder.dim

    def ensure(self, progress: Progress | None = None, *, holding_lock: bool = False) -> str | None:
        """Make the in-memory index usable and current; returns a rebuild reason or None.

        ``holding_lock``: the caller holds the ingestion lock (an ingestion
        about to write), so a rebuild runs at once instead of taking the lock.
        """
        with self.index.lock:
            # In-process writers keep the in-memory index current, so while one
            # runs, other callers trust it. A caller holding the ingestion lock
            # is the one writer that is about to start: it must prove the index
            # consistent first, or a crashed writer's stale index would be
            # saved under the new version (issue 11, item 2).
            trust_writers = bool(self.writers) and not holding_lock
            if self.index.index is None or self.index.changed_on_disk():
                reason = self.index.open(*self._identity())
                if reason is None:
                    assert self.index.meta is not None  # open() succeeded: it read the sidecar
                    self.version = self.index.meta.version
                    if not trust_writers:
                        reason = self._inconsistency()
                if reason is not None and (self.index.index is None or not trust_writers):
                    return self._try_rebuild(reason, progress, holding_lock)
            if trust_writers:
                return None
            current = chunks_version()
            if self.version != current:
                return self._try_rebuild(
                    f"index reflects store version {self.version}, store is at {current}",
                    progress, holding_lock)
            if holding_lock and (reason := self._inconsistency()):
                return self._try_rebuild(reason, progress, holding_lock)
            return None

    def _inconsistency(self) -> str | None:
        """Why the in-memory index does not match the store (version and
        vector count against chunk count), or None when it does."""
        current = chunks_version()
        if self.version != current:
            return f"index reflects store version {self.version}, store is at {current}"
        chunks = Chunk.select().count()
        if len(self.index) != chunks:
            return f"index holds {len(self.index)} vectors for {chunks} chunks"
        return None

    def _try_rebuild(self, reason: str, progress: Progress | None, holding_lock: bool) -> str | None:
        if not Chunk.select().exists():
            # nothing to rebuild from (a new data dir): start empty, say nothing
            self.index.reset(*self._identity())
            self.version = chunks_version()
            return None
        if holding_lock:
            self.rebuild(reason, progress)
            return reason
        try:
            with ingest_lock(self.data_dir, 0.0, purpose="index rebuild"):
                self.rebuild(reason, progress)
        except Busy:
            # Another process is ingesting and will save a current index; until
            # then serve what we have (lexical search still sees every chunk).
            if self.index.index is None:
                self.index.reset(*self._identity())
                self.version = -1
            return None
        except OSError as exc:
            # A read-only data dir (issue 11, item 10): neither the lock nor the
            # index file can be written, so build the index in memory only.
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            self.rebuild(reason, progress, save=False)
        return reason

    def rebuild(self, reason: str = "requested", progress: Progress | None = None, *,
                save: bool = True) -> float:
        """Re-embed every chunk into a fresh index and save it; returns seconds."""
        started = time.perf_counter()
        with self.index.lock:
            version = chunks_version()
            self.index.reset(*self._identity())
            total = Chunk.select().count()
            done = 0
            last_key = None
            while True:
                query = (Chunk.select(Chunk.key, Chunk.title, Chunk.heading_path, Chunk.content)
                         .order_by(Chunk.key).limit(REBUILD_BATCH))
                if last_key is not None:
                    query = query.where(Chunk.key > last_key)
                rows = list(query.tuples())
                if not rows:
                    break
                keys = np.array([r[0] for r in rows], dtype=np.uint64)
                vectors = self.embedder.encode([embedding_text(r[1], r[2], r[3]) for r in rows])
                self.index.add(keys, vectors)
                last_key = rows[-1][0]
                done += len(rows)
                if progress:
                    progress(done, total, "embedding chunks")
            if save:
                self.index.save(version)
            self.version = version
        self.last_rebuild = reason
        return time.perf_counter() - started

    def apply(self, removed: list[int], added: list[int], vectors: np.ndarray, version: int) -> None:
        """Apply one committed batch of chunk changes to the in-memory index."""
        with self.index.lock:
            if self.index.index is None:
                self.index.reset(*self._identity())
            self.index.remove(removed)
            self.index.add(np.asarray(added, dtype=np.uint64), vectors)
            self.version = version

    def reset(self) -> None:
        """Forget the in-memory index (after the files under it were replaced,
        e.g. by a restore); the next use loads or rebuilds it."""
        with self.index.lock:
            self.index.index = None
            self.index.meta = None
            self.version = -1

    def save(self) -> None:
        with self.index.lock:
            if self.index.index is not None:
                self.index.save(self.version)

    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        return self.index.search(vector, count)

    def vectors_of(self, keys: list[int]) -> dict[int, np.ndarray]:
        return self.index.vectors(keys)
