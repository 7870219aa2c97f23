"""Semantic vectors of chunks, computed after ingestion in the background.

Ingestion makes a note searchable at once (full text and the static model).
The semantic model is a hundred times slower, so its vectors are filled in by
a pass that runs after ingestion — a low-priority thread in the workstation
and the server, a detached process after a CLI ingest, or ``atocore-tui index
semantic`` in the foreground — and retrieval uses them for whatever chunk they
cover (the others keep their static-model score).

The pass is resumable: it saves its progress every few hundred chunks
(``semantic.usearch`` + ``semantic.covered.npy`` + the ``semantic.json``
sidecar, each written to a temporary file and renamed, the sidecar last) and
starts by comparing what is saved with what the database holds. A chunk is
covered when the saved hash of its text equals the hash of its text now, so a
re-ingested chunk is never scored with the vector of its old text. One pass
runs per data dir at a time (a file lock); it never takes the ingestion lock,
so it never blocks an ingestion.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ..store import Chunk
from ..store.db import get_meta
from .index import VectorIndex
from .semantic import SemanticEncoder

Progress = Callable[[int, int, str], None]
BATCH = 8
"""Chunks per round trip; a stop request waits for at most one batch (~0.3 s)."""
SAVE_EVERY_SECONDS = 20.0
MAX_ROUNDS = 20


def semantic_text(title: str, heading_path: str, content: str) -> str:
    """What a chunk's semantic vector is computed from: its heading path
    (unless the chunk already begins with it) and its text, so the model's
    256 tokens are not spent on a title written twice."""
    head = (heading_path or title or "").strip()
    if head and head.split(" > ")[-1][:60] not in content[:400]:
        return f"{head}\n{content}"
    return content


def chunks_version() -> int:
    return int(get_meta("chunks_version", "0") or 0)


def text_hash(content_hash: str) -> int:
    """The chunk's stored content hash as a number: cheap to compare on every
    query. (A changed title or heading alone keeps the old vector until the
    chunk's text changes: the vector is of the text, mostly.)"""
    try:
        return int(content_hash[:15], 16)
    except (TypeError, ValueError):
        return -1


@dataclass
class SemanticProgress:
    covered: int
    total: int
    running: bool
    rate: float | None = None
    """Chunks per second of the pass now running (None when idle)."""
    error: str | None = None

    def to_dict(self) -> dict:
        return {"covered": self.covered, "total": self.total, "running": self.running,
                "complete": self.covered >= self.total and not self.running,
                "chunks_per_s": None if self.rate is None else round(self.rate, 1), "error": self.error}


class SemanticVectors:
    """The semantic index of one data dir and which chunk texts it covers."""

    def __init__(self, data_dir: Path, encoder: SemanticEncoder, *, exact_below: int = 50_000):
        self.data_dir = data_dir
        self.encoder = encoder
        self.index = VectorIndex(data_dir / "index", "semantic", dtype="f16", exact_below=exact_below)
        self.covered_path = data_dir / "index" / "semantic.covered.npy"
        self.covered: dict[int, int] = {}
        """chunk key -> hash of the text its vector was computed from."""
        self.complete_version = -1
        """The store's chunks_version at which every chunk was covered (-1: not complete)."""
        self.running = False
        self.rate: float | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    # ---------------------------------------------------------------- loading
    def _load(self) -> None:
        """Load (or reload, when another process saved) what is on disk."""
        with self.index.lock:
            if self.index.index is not None and not self.index.changed_on_disk():
                return
            reason = self.index.open(self.encoder.name, self._fingerprint(), self.encoder.dim)
            covered: dict[int, int] = {}
            if reason is None:
                try:
                    pairs = np.load(self.covered_path)
                    covered = {int(k): int(h) for k, h in pairs}
                except (OSError, ValueError):
                    reason = "coverage file missing or unreadable"
                if reason is None and len(covered) != len(self.index):
                    reason = "coverage file does not match the index"
            if reason is not None:
                self.index.reset(self.encoder.name, self._fingerprint(), self.encoder.dim)
                covered = {}
            self.covered = covered
            self.complete_version = self.index.meta.version if reason is None and self.index.meta else -1

    def _fingerprint(self) -> str:
        self.encoder.load()
        return self.encoder.fingerprint

    def loaded_count(self) -> int:
        return len(self.covered)

    def complete(self, version: int | None) -> bool:
        """Does every chunk of store version ``version`` have its semantic vector?"""
        self._load()
        return version is not None and self.complete_version == version >= 0

    def usable(self) -> bool:
        """Is there anything to score with? (False costs no model load.)"""
        if not self.encoder.available():
            return False
        meta = self.index.read_meta()
        return bool(self.covered) or bool(meta and meta.count)

    # ---------------------------------------------------------------- reading
    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        self._load()
        return self.index.search(vector, count)

    def vectors_of(self, keys: list[int]) -> dict[int, np.ndarray]:
        self._load()
        return self.index.vectors(keys)

    def progress(self) -> SemanticProgress:
        """How far the pass is, whichever process runs it (the saved sidecar
        counts for another process's pass; this one's own is counted live)."""
        total = Chunk.select().count()
        if self.running:
            covered = len(self.covered)
        else:
            meta = self.index.read_meta()
            covered = meta.count if meta else 0
        running = self.running or self._locked_elsewhere()
        return SemanticProgress(covered=min(covered, total), total=total, running=running,
                                rate=self.rate if self.running else None, error=self.error)

    def _lock(self) -> FileLock:
        return FileLock(str(self.data_dir / "index" / "semantic.lock"), timeout=0, is_singleton=False)

    def _locked_elsewhere(self) -> bool:
        if not (self.data_dir / "index" / "semantic.lock").exists():
            return False
        lock = self._lock()
        try:
            lock.acquire()
        except (Timeout, OSError):
            return True
        lock.release()
        return False

    # ---------------------------------------------------------------- the pass
    def run(self, progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
            save_every: float = SAVE_EVERY_SECONDS) -> int:
        """Encode every chunk not yet covered; returns how many were encoded.

        Returns 0 at once when another process's pass holds the lock.
        """
        (self.data_dir / "index").mkdir(parents=True, exist_ok=True)
        lock = self._lock()
        try:
            lock.acquire()
        except Timeout:
            return 0
        self.running, self.error, self.rate = True, None, None
        try:
            return self._run(progress, cancelled or (lambda: self._cancel.is_set()), save_every)
        finally:
            self.running = False
            lock.release()

    def _run(self, progress: Progress | None, cancelled: Callable[[], bool], save_every: float) -> int:
        """Rounds until nothing is missing: chunks ingested while a round ran
        are found by the next one (an ingestion's request to start a pass while
        this one runs is answered by it)."""
        self._load()
        started = last_save = time.perf_counter()
        encoded = 0
        dirty = False
        for _ in range(MAX_ROUNDS):
            # The version first: a commit between the two reads makes it older
            # than the rows, so "complete" is never claimed for a newer store.
            version = chunks_version()
            wanted = {int(key): text_hash(content_hash) for key, content_hash in
                      Chunk.select(Chunk.key, Chunk.content_hash).tuples()}
            with self.index.lock:
                stale = [k for k, h in self.covered.items() if wanted.get(k) != h]
                if stale:
                    self.index.remove(stale)
                    for key in stale:
                        del self.covered[key]
                    dirty = True
            missing = sorted(k for k in wanted if k not in self.covered)
            total, done = len(wanted), len(wanted) - len(missing)
            if progress:
                progress(done, total, "semantic vectors")
            if not missing:
                if self.complete_version != version:
                    self.complete_version, dirty = version, True
                break
            self.complete_version = -1
            if cancelled():
                break
            for start in range(0, len(missing), BATCH):
                if cancelled():
                    break
                keys = missing[start:start + BATCH]
                rows = list(Chunk.select(Chunk.key, Chunk.title, Chunk.heading_path, Chunk.content,
                                         Chunk.content_hash).where(Chunk.key.in_(keys)).tuples())
                if not rows:
                    continue
                vectors = self.encoder.encode([semantic_text(r[1], r[2], r[3]) for r in rows])
                with self.index.lock:
                    self.index.add(np.array([r[0] for r in rows], dtype=np.uint64), vectors)
                    for row in rows:
                        self.covered[int(row[0])] = text_hash(row[4])
                encoded += len(rows)
                done += len(rows)
                dirty = True
                self.rate = encoded / max(time.perf_counter() - started, 1e-9)
                if progress:
                    progress(done, total, "semantic vectors")
                if time.perf_counter() - last_save >= save_every:
                    self._save()
                    last_save, dirty = time.perf_counter(), False
        if dirty or not self.index.path.exists():
            self._save()
        return encoded

    def _save(self) -> None:
        with self.index.lock:
            pairs = np.array(sorted(self.covered.items()), dtype=np.int64).reshape(-1, 2)
            tmp = self.covered_path.with_name(f"{self.covered_path.stem}.tmp{os.getpid()}.npy")
            np.save(tmp, pairs)
            os.replace(tmp, self.covered_path)
            self.index.save(version=self.complete_version)

    # ------------------------------------------------------------ background
    def start(self, on_error: Callable[[str], None] | None = None) -> bool:
        """Run the pass in a low-priority daemon thread unless one runs; True if started."""
        if self._thread is not None and self._thread.is_alive():
            return False
        self._cancel.clear()

        def work() -> None:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            except (OSError, AttributeError):
                pass
            try:
                self.run()
            except Exception as exc:  # a background pass must never take the process down
                self.error = f"semantic pass stopped: {exc}"
                if on_error:
                    on_error(self.error)

        self._thread = threading.Thread(target=work, name="semantic-pass", daemon=True)
        self._thread.start()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask a running pass to stop after its batch (it saves what it has)."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
