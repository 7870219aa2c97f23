"""The usearch vector index on disk, with a sidecar saying what built it.

The index is derived data. The sidecar (``<name>.json``) records the model
fingerprint, dimension, scalar type and the store's version counter that the
saved vectors reflect. :meth:`VectorIndex.open` answers whether the file can be
used as is; the caller rebuilds from the database when it cannot.

Below ``exact_below`` vectors every search is exact (a scan), so the HNSW
graph is not used: it is built cheaply then (``SCAN_EXPANSION_ADD``, about 6x
less work per add than 128) and rebuilt once with the configured
``expansion_add`` from the stored vectors when the index grows past
``exact_below``. The sidecar records which expansion built the graph, so an
index opened under a lower ``exact_below`` gets its graph rebuilt in memory.

Saving writes a temporary file and renames it over the old one, so a reader in
another process sees either the old or the new index, never half of one; it
notices the new one by the sidecar's modification time and reloads.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:
    # onnxruntime (the semantic model) must be loaded before usearch's compiled
    # module: loaded after it, its C++ runtime state breaks (onnxruntime 1.22
    # rejects valid graphs, 1.23 and later crash on import).
    # tests/test_semantic.py::test_the_semantic_model_loads_after_the_index guards this.
    import onnxruntime  # noqa: F401
except ImportError:  # pragma: no cover - a dependency; the semantic side then reports ModelError
    pass
from usearch.index import Index

from ..locks import process_alive
from ..store.models import utc_now

SCAN_EXPANSION_ADD = 16
"""Graph construction effort while every search is a scan (recall of an HNSW
search over such a graph would be ~0.78 instead of ~0.99, hence the rebuild)."""
UPGRADE_SLICE = 8192


@dataclass
class IndexMeta:
    model: str
    fingerprint: str
    ndim: int
    dtype: str
    version: int
    count: int
    built_at: str
    expansion_add: int = 0
    """The construction effort of the saved graph (0: a file from before this was recorded)."""


class VectorIndex:
    def __init__(self, folder: Path, name: str, *, dtype: str = "f16", connectivity: int = 16,
                 expansion_add: int = 128, expansion_search: int = 64, exact_below: int = 0):
        self.path = folder / f"{name}.usearch"
        self.meta_path = folder / f"{name}.json"
        self.dtype = dtype
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.exact_below = exact_below
        self.lock = threading.RLock()
        self.index: Index | None = None
        self.meta: IndexMeta | None = None
        self._seen_mtime_ns: int | None = None

    # ------------------------------------------------------------------ state
    def _new_index(self, ndim: int, expansion_add: int | None = None) -> Index:
        return Index(ndim=ndim, metric="cos", dtype=self.dtype, connectivity=self.connectivity,
                     expansion_add=expansion_add or self.expansion_add,
                     expansion_search=self.expansion_search)

    def _scan_only(self, count: int) -> bool:
        """Will every search of an index of ``count`` vectors be exact?"""
        return count < self.exact_below

    def _graph_for_search(self) -> None:
        """Rebuild a cheaply built graph with the configured effort (the index
        is about to be searched through its graph). Keeps keys and vectors."""
        assert self.index is not None
        if self.index.expansion_add >= self.expansion_add:
            return
        keys = np.asarray(self.index.keys[0:len(self.index)], dtype=np.uint64)
        rebuilt = self._new_index(self.index.ndim)
        for start in range(0, len(keys), UPGRADE_SLICE):  # slices: no float32 copy of them all
            part = keys[start:start + UPGRADE_SLICE]
            vectors: Any = self.index.get(part, dtype="f32")  # usearch types it as one vector or None
            rebuilt.add(part, np.vstack(vectors))
        self.index = rebuilt

    def read_meta(self) -> IndexMeta | None:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
            return IndexMeta(**data)
        except (OSError, ValueError, TypeError):
            return None

    def _meta_mtime_ns(self) -> int | None:
        try:
            return self.meta_path.stat().st_mtime_ns
        except OSError:
            return None

    def changed_on_disk(self) -> bool:
        """Has another writer saved a newer index since we loaded ours?"""
        return self._meta_mtime_ns() != self._seen_mtime_ns

    def open(self, model: str, fingerprint: str, ndim: int) -> str | None:
        """Load the saved index; returns None if usable, else why it must be rebuilt."""
        with self.lock:
            mtime = self._meta_mtime_ns()
            meta = self.read_meta()
            if not self.path.exists():
                return "index file missing"
            if meta is None:
                return "index sidecar missing or unreadable"
            if meta.fingerprint != fingerprint or meta.model != model:
                return f"built by another model ({meta.model})"
            if meta.ndim != ndim:
                return f"built with dimension {meta.ndim}, model has {ndim}"
            if meta.dtype != self.dtype:
                return f"built as {meta.dtype}, settings ask for {self.dtype}"
            index = self._new_index(ndim, meta.expansion_add or self.expansion_add)
            try:
                index.load(str(self.path))
            except (RuntimeError, ValueError, OSError) as exc:
                return f"index file unreadable ({exc})"
            if index.ndim != ndim or len(index) != meta.count:
                return "index file does not match its sidecar"
            self.index, self.meta, self._seen_mtime_ns = index, meta, mtime
            if not self._scan_only(len(index)):
                self._graph_for_search()
            return None

    def reset(self, model: str, fingerprint: str, ndim: int) -> None:
        """Start an empty index in memory (before a rebuild)."""
        with self.lock:
            self.index = self._new_index(ndim, SCAN_EXPANSION_ADD if self.exact_below > 0 else None)
            self.meta = IndexMeta(model=model, fingerprint=fingerprint, ndim=ndim, dtype=self.dtype,
                                  version=-1, count=0, built_at=utc_now())

    # --------------------------------------------------------------- changes
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0:
            return
        with self.lock:
            assert self.index is not None
            keys = np.asarray(keys, dtype=np.uint64)
            present = self.index.contains(keys)
            if np.any(present):
                for key in keys[present]:
                    self.index.remove(int(key))
            if not self._scan_only(len(self.index) + len(keys)):
                self._graph_for_search()
            self.index.add(keys, np.asarray(vectors, dtype=np.float32))

    def remove(self, keys) -> None:
        with self.lock:
            assert self.index is not None
            for key in keys:
                if int(key) in self.index:
                    self.index.remove(int(key))

    def save(self, version: int) -> None:
        with self.lock:
            assert self.index is not None and self.meta is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _sweep_dead_temporaries(self.path.parent)
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            tmp_meta = self.meta_path.with_name(self.meta_path.name + f".tmp{os.getpid()}")
            meta = IndexMeta(**{**asdict(self.meta), "version": version, "count": len(self.index),
                                "expansion_add": self.index.expansion_add, "built_at": utc_now()})
            try:
                try:
                    self.index.save(str(tmp))
                except RuntimeError as exc:
                    # usearch says only "Failed to serialize into stream": give the OS's reason
                    raise _write_error(self.path, exc) from None
                os.replace(tmp, self.path)
                tmp_meta.write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")
                os.replace(tmp_meta, self.meta_path)
            except BaseException:
                # A full disk (or a kill) mid-save: leave no orphan temporary
                # file; the old sidecar no longer matches the vectors file, so
                # the next open rebuilds (issue 11, item 11).
                for leftover in (tmp, tmp_meta):
                    leftover.unlink(missing_ok=True)
                raise
            self.meta = meta
            self._seen_mtime_ns = self._meta_mtime_ns()

    # ---------------------------------------------------------------- reading
    def __len__(self) -> int:
        return 0 if self.index is None else len(self.index)

    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        """(key, cosine similarity) best first."""
        with self.lock:
            if self.index is None or len(self.index) == 0 or count <= 0:
                return []
            exact = len(self.index) < self.exact_below
            matches = self.index.search(np.asarray(vector, dtype=np.float32), count, exact=exact)
            return [(int(k), 1.0 - float(d)) for k, d in zip(matches.keys, matches.distances, strict=True)]

    def vectors(self, keys: list[int]) -> dict[int, np.ndarray]:
        with self.lock:
            if self.index is None or not keys:
                return {}
            found: Any = self.index.get(np.asarray(keys, dtype=np.uint64))
            if isinstance(found, np.ndarray) and found.ndim == 1:
                found = [found]
            return {key: np.asarray(vec, dtype=np.float32)
                    for key, vec in zip(keys, found, strict=True) if vec is not None}


def _write_error(path: Path, exc: Exception) -> OSError:
    """An OSError for a failed index write: ENOSPC when the disk has (nearly)
    no room left, EIO otherwise."""
    try:
        full = shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        full = False
    code = errno.ENOSPC if full else errno.EIO
    return OSError(code, f"{os.strerror(code)} (writing the index: {exc})", str(path))


def _sweep_dead_temporaries(folder: Path) -> None:
    """Remove ``*.tmp<pid>`` files of writers that were killed mid-save (kill -9
    leaves them; issue 11, item 11): a pid that no longer runs."""
    for leftover in folder.glob("*.tmp*"):
        pid = leftover.name.rsplit(".tmp", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        if not process_alive(int(pid)):
            leftover.unlink(missing_ok=True)
