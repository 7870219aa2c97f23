"""One ingestion run: walk a scope, parse what changed, write chunks, keep the
index in step, report every file.

Files are handled in batches (up to ``BATCH_FILES`` changed files or
``BATCH_BYTES`` of text): read and parse, embed the chunks whose text changed (one
model call per batch), then one transaction writes the batch's
documents and chunks (FTS5 follows by trigger) and bumps ``chunks_version``;
after the commit the in-memory index takes the batch's changes, and it is
saved to disk every few seconds and at the end.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from peewee import SqliteDatabase

from ..config import Settings
from ..locks import ingest_lock
from ..search.embedding import embedding_text
from ..search.vectors import CHUNKS_VERSION, ChunkVectors
from ..store import Chunk, Document, bump_counter, fts, utc_now, write_cache
from .files import ReadFile, Scope, Skip, read_file, walk
from .markdown import ParsedChunk, parse_document

Progress = Callable[[int, int, str], None]
ProjectResolver = Callable[[str, str], "str | None"]
"""(source, relative path) -> the project whose ingest root holds the file."""
ProjectName = Callable[[str], str]
"""A project name from front matter -> its canonical id (aliases resolved)."""

BATCH_FILES = 1024
BATCH_BYTES = 1_000_000
"""A batch is written when it holds this many changed files or bytes: large
batches mean fewer transactions (FTS5 flushes its terms at each commit), model
calls and index adds; 64-file batches cost 1.79 s CPU for 5,000 short notes,
1,024-file ones 1.46 s. The byte cap keeps a batch of long notes small enough
that a crash loses little and progress shows in the database as it goes."""
_IDS_PER_SELECT = 500
"""Ids per ``IN (...)`` list (well under SQLite's parameter limit)."""
SAVE_EVERY_SECONDS = 5.0
OPTIMIZE_AFTER_CHUNKS = 1_000
"""A run that wrote at least this many chunks merges the full-text index into
one segment before it ends (``fts.optimize``): each batch's commit leaves a
segment, and a query looks every word up in every segment."""


_DOCUMENT_COLUMNS = ("project", "front_matter_project", "title", "tags", "content_hash", "size",
                     "mtime", "ingested_at", "warnings")
_DOCUMENT_INSERT = (f"INSERT INTO document (source, path, {', '.join(_DOCUMENT_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * (len(_DOCUMENT_COLUMNS) + 2))})")
_CHUNK_COLUMNS = ("key", "chunk_id", "ordinal", "heading_path", "title", "content", "tags",
                  "content_hash", "char_start", "char_end", "line_start", "line_end")
_CHUNK_INSERT = f"INSERT INTO chunk (document_id, {', '.join(_CHUNK_COLUMNS)}) VALUES "
_CHUNK_ROW = f"({', '.join('?' * (len(_CHUNK_COLUMNS) + 1))})"
CHUNKS_PER_STATEMENT = 500
"""New chunks go in as multi-row INSERTs of this many. The full-text index
(filled by the insert trigger) syncs its pending terms at every statement's
savepoint, so a statement per chunk (``executemany``) made FTS5 write a tiny
segment per chunk: 5,000 chunks took 303 ms to insert with the trigger and
22 ms without; in statements of 500, 80 ms."""


def _document_values(fields: dict) -> tuple:
    """A document's column values as stored (JSON fields as Peewee writes them)."""
    return tuple(getattr(Document, name).db_value(fields[name]) for name in _DOCUMENT_COLUMNS)


def _chunk_values(document_id: int, row: dict) -> tuple:
    return (document_id, *(getattr(Chunk, name).db_value(row[name]) for name in _CHUNK_COLUMNS))


def _variable_limit(cursor) -> int:
    """The most ``?`` one statement may hold on this connection's SQLite."""
    return int(cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def chunk_key(source: str, path: str, slot: str) -> int:
    """A stable 63-bit key for the chunk at ``slot`` of a document."""
    digest = hashlib.sha256(f"{source}:{path}\n{slot}".encode()).hexdigest()
    return int(digest[:16], 16) >> 1


def _is_utf8_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def display_name(path: str) -> str:
    """A path that may carry surrogate escapes (a non-UTF-8 file name) as
    printable text that still says which bytes it has: ``m\\xe9moire.md``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def chunk_id_of(key: int) -> str:
    return f"{key:016x}"


def key_of(chunk_id: str) -> int:
    return int(chunk_id, 16)


@dataclass
class FileReport:
    path: str
    source: str
    status: str
    """ingested | unchanged | skipped | removed | missing"""
    reason: str = ""
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_removed: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    scope: str = ""
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    index_rebuilt: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def chunks_added(self) -> int:
        return sum(f.chunks_added for f in self.files)

    @property
    def chunks_updated(self) -> int:
        return sum(f.chunks_updated for f in self.files)

    @property
    def chunks_removed(self) -> int:
        return sum(f.chunks_removed for f in self.files)

    @property
    def files_seen(self) -> int:
        return sum(1 for f in self.files if f.status not in ("removed", "missing"))

    def summary(self) -> dict:
        """The JSON summary the CLI and HTTP faces return."""
        return {
            "scope": self.scope,
            "files_seen": self.files_seen,
            "ingested": self.count("ingested"),
            "unchanged": self.count("unchanged"),
            "skipped": [{"path": f.path, "source": f.source, "reason": f.reason}
                        for f in self.files if f.status == "skipped"],
            "removed": [f.path for f in self.files if f.status == "removed"],
            "missing": [f.path for f in self.files if f.status == "missing"],
            "warnings": [{"path": f.path, "warning": w} for f in self.files for w in f.warnings],
            "chunks_added": self.chunks_added,
            "chunks_updated": self.chunks_updated,
            "chunks_removed": self.chunks_removed,
            "seconds": round(self.seconds, 3),
            "index_rebuilt": self.index_rebuilt,
        }

    def results(self) -> list[dict]:
        """Per-file results (the HTTP ``results`` list)."""
        return [asdict(f) for f in self.files]

    def merge(self, other: IngestReport) -> None:
        self.files.extend(other.files)
        self.seconds += other.seconds
        self.index_rebuilt = self.index_rebuilt or other.index_rebuilt
        self.scope = ", ".join(s for s in (self.scope, other.scope) if s)


@dataclass
class _Planned:
    report: FileReport
    read: ReadFile
    document: Document | None
    project: str
    front_matter_project: str
    title: str
    tags: list[str]
    rows: list[tuple[bool, dict]]
    """(is new, chunk row) for every chunk to insert or update."""
    removed: list[int]
    embed_keys: list[int]
    embed_texts: list[str]


class Ingester:
    def __init__(self, db: SqliteDatabase, settings: Settings, vectors: ChunkVectors):
        self.db = db
        self.settings = settings
        self.vectors = vectors

    def run(self, scope: Scope, *, project: str | None = None, purge_deleted: bool = False,
            progress: Progress | None = None, project_for: ProjectResolver | None = None,
            canonical: ProjectName | None = None,
            cancelled: Callable[[], bool] | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(scope=f"{scope.source}:{scope.relative or '/'}")
        with ingest_lock(self.settings.data_dir, self.settings.ingest.lock_timeout), write_cache(self.db):
            self.vectors.writers += 1
            try:
                report.index_rebuilt = self.vectors.ensure(progress, holding_lock=True)
                self._run_locked(scope, report, project, purge_deleted, progress, project_for,
                                 canonical, cancelled)
                if report.chunks_added + report.chunks_removed >= OPTIMIZE_AFTER_CHUNKS:
                    fts.optimize(self.db)
            finally:
                self.vectors.writers -= 1
                self.vectors.save()
        report.seconds = time.perf_counter() - started
        return report

    def _run_locked(self, scope, report, project, purge_deleted, progress, project_for, canonical,
                    cancelled):
        paths = walk(scope)
        total = len(paths)
        existing = {d.path: d for d in Document.select().where(Document.source == scope.source)
                    if scope.contains(d.path)}
        last_save = time.monotonic()
        planned: list[_Planned] = []
        planned_bytes = 0
        for done, path in enumerate(paths, start=1):
            if cancelled and cancelled():
                break
            item = self._plan(scope, path, existing.get(path), project, project_for, canonical)
            if isinstance(item, FileReport):
                report.files.append(item)
            else:
                planned.append(item)
                planned_bytes += item.read.size
            if progress:
                progress(done, total, display_name(path))
            if len(planned) >= BATCH_FILES or planned_bytes >= BATCH_BYTES:
                self._write(planned)
                report.files.extend(p.report for p in planned)
                planned, planned_bytes = [], 0
                if time.monotonic() - last_save > SAVE_EVERY_SECONDS:
                    self.vectors.save()
                    last_save = time.monotonic()
        if planned:
            self._write(planned)
            report.files.extend(p.report for p in planned)
        on_disk = set(paths)
        gone = [doc for path, doc in existing.items() if path not in on_disk]
        if gone and not (cancelled and cancelled()):
            if purge_deleted:
                self._purge(gone, report)
            else:
                report.files.extend(FileReport(d.path, d.source, "missing",
                                               "deleted from disk; run with purge_deleted to remove")
                                    for d in gone)

    def _plan(self, scope: Scope, path: str, document: Document | None, project: str | None,
              project_for: ProjectResolver | None,
              canonical: ProjectName | None = None) -> _Planned | FileReport:
        if not _is_utf8_name(path):
            # A file name that is not UTF-8 (os.walk hands it over with
            # surrogate escapes) cannot be a chunk key, a stored path or JSON:
            # skip it with its reason, shown under a lossless escaped name, and
            # go on with the run (issue 11, item 1).
            return FileReport(display_name(path), scope.source, "skipped",
                              "file name is not valid UTF-8; rename the file to ingest it")
        try:
            read = read_file(scope.root, path, self.settings.ingest.max_file_bytes)
        except Skip as skip:
            return FileReport(path, scope.source, "skipped", str(skip))
        same_bytes = document is not None and document.content_hash == read.content_hash
        default_project = project or (project_for(scope.source, path) if project_for else None) or ""
        if same_bytes and document is not None:
            # Unchanged bytes: only the project could differ (a new --project, a
            # registry change), and the note's own choice is stored, so compare
            # without parsing (the common re-ingest case).
            own = document.front_matter_project
            expected = (canonical(own) if own and canonical is not None else own) or default_project
            if document.project == expected:
                return FileReport(path, scope.source, "unchanged")
        parsed = parse_document(read.text, path, max_chars=self.settings.ingest.chunk_max_chars,
                                min_chars=self.settings.ingest.chunk_min_chars,
                                plain_text=read.kind == "text")
        front_matter_project = parsed.project
        if front_matter_project and canonical is not None:
            front_matter_project = canonical(front_matter_project)
        resolved_project = front_matter_project or default_project
        if same_bytes and document is not None and document.project == resolved_project:
            if document.front_matter_project != (parsed.project or ""):
                # a data dir from before the column existed: remember it once
                Document.update(front_matter_project=parsed.project or "").where(
                    Document.id == document.id).execute()
            return FileReport(path, scope.source, "unchanged")
        report = FileReport(path, scope.source, "ingested", warnings=parsed.warnings)
        old = {}
        if document is not None:
            old = {c.key: c for c in Chunk.select().where(Chunk.document == document.id)}
        rows, embed_keys, embed_texts = [], [], []
        new_keys = set()
        for chunk in parsed.chunks:
            key = chunk_key(scope.source, path, chunk.slot)
            new_keys.add(key)
            row = self._row(key, chunk, parsed.title)
            previous = old.get(key)
            text = embedding_text(parsed.title, chunk.heading_path, chunk.content)
            if previous is None:
                report.chunks_added += 1
            elif self._differs(previous, row):
                report.chunks_updated += 1
            else:
                continue
            rows.append((previous is None, row))
            if previous is None or embedding_text(previous.title, previous.heading_path,
                                                  previous.content) != text:
                embed_keys.append(key)
                embed_texts.append(text)
        removed = [key for key in old if key not in new_keys]
        report.chunks_removed = len(removed)
        return _Planned(report, read, document, resolved_project, parsed.project or "", parsed.title,
                        parsed.tags, rows, removed, embed_keys, embed_texts)

    @staticmethod
    def _row(key: int, chunk: ParsedChunk, title: str) -> dict:
        return {
            "key": key,
            "chunk_id": chunk_id_of(key),
            "ordinal": chunk.ordinal,
            "heading_path": chunk.heading_path,
            "title": title,
            "content": chunk.content,
            "tags": chunk.tags,
            "content_hash": hashlib.sha256(chunk.content.encode()).hexdigest()[:16],
            "char_start": chunk.char_start,
            "char_end": chunk.char_end,
            "line_start": chunk.line_start,
            "line_end": chunk.line_end,
        }

    @staticmethod
    def _differs(previous: Chunk, row: dict) -> bool:
        return any(getattr(previous, name) != value for name, value in row.items())

    def _write(self, planned: list[_Planned]) -> None:
        texts = [t for p in planned for t in p.embed_texts]
        keys = [k for p in planned for k in p.embed_keys]
        vectors = self.vectors.embedder.encode(texts) if texts else np.zeros((0, 1), np.float32)
        removed = [k for p in planned for k in p.removed]
        with self.db.atomic():
            cursor = self.db.cursor()
            now = utc_now()
            fields = {id(p): dict(project=p.project, front_matter_project=p.front_matter_project,
                                  title=p.title, tags=p.tags, content_hash=p.read.content_hash,
                                  size=p.read.size, mtime=p.read.mtime, ingested_at=now,
                                  warnings=p.report.warnings)
                      for p in planned}
            document_ids = {p.report.path: p.document.id for p in planned if p.document is not None}
            for p in planned:
                if p.document is not None:
                    Document.update(**fields[id(p)]).where(Document.id == p.document.id).execute()
            fresh = [p for p in planned if p.document is None]
            if fresh:
                # New documents in one prepared statement, then their ids by the
                # (source, path) unique index; Peewee's per-row create() cost more
                # than SQLite did.
                cursor.executemany(_DOCUMENT_INSERT, [
                    (p.report.source, p.report.path, *_document_values(fields[id(p)])) for p in fresh])
                for start in range(0, len(fresh), _IDS_PER_SELECT):
                    part = fresh[start:start + _IDS_PER_SELECT]
                    marks = ", ".join("?" * len(part))
                    document_ids.update(cursor.execute(
                        f"SELECT path, id FROM document WHERE source = ? AND path IN ({marks})",
                        [part[0].report.source, *(p.report.path for p in part)]).fetchall())
            # chunks gone, and chunks changed (replaced: every column is
            # rewritten, the key stays), deleted a few hundred to a statement;
            # the changed ones go back in with the new ones below
            gone = removed + [row["key"] for p in planned for is_new, row in p.rows if not is_new]
            for start in range(0, len(gone), _IDS_PER_SELECT):
                part = gone[start:start + _IDS_PER_SELECT]
                cursor.execute(f"DELETE FROM chunk WHERE key IN ({', '.join('?' * len(part))})", part)
            rows = [_chunk_values(document_ids[p.report.path], row) for p in planned for _, row in p.rows]
            per = max(1, min(CHUNKS_PER_STATEMENT, _variable_limit(cursor) // (len(_CHUNK_COLUMNS) + 1)))
            for start in range(0, len(rows), per):
                values = rows[start:start + per]
                cursor.execute(_CHUNK_INSERT + ", ".join([_CHUNK_ROW] * len(values)),
                               [value for row in values for value in row])
            version = bump_counter(CHUNKS_VERSION)
        self.vectors.apply(removed, keys, vectors, version)

    def _purge(self, gone: list[Document], report: IngestReport) -> None:
        removed: list[int] = []
        with self.db.atomic():
            for document in gone:
                keys = [c.key for c in Chunk.select(Chunk.key).where(Chunk.document == document.id)]
                removed.extend(keys)
                Chunk.delete().where(Chunk.document == document.id).execute()
                document.delete_instance()
                report.files.append(FileReport(document.path, document.source, "removed",
                                               "deleted from disk", chunks_removed=len(keys)))
            version = bump_counter(CHUNKS_VERSION)
        self.vectors.apply(removed, [], np.zeros((0, 1), np.float32), version)
