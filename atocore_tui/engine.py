"""The engine: one object that wires the store, ingestion and search together.

Every face (CLI, workstation, HTTP, MCP) holds one :class:`Engine` and calls
its methods; validation of what crosses the boundary happens here, once.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .config import Settings
from .errors import NotFound, ValidationError
from .ingest.files import Scope, resolve_scope, source_scope
from .ingest.pipeline import Ingester, IngestReport
from .locks import holder, is_locked
from .search.embedding import Embedder
from .search.retrieval import Hit, RetrievalRequest, Retriever
from .search.semantic import SemanticEncoder
from .search.semantic_pass import SemanticVectors
from .search.vectors import ChunkVectors, chunks_version
from .store import DB_FILENAME, MODELS, SCHEMA_VERSION, Chunk, Document, open_database

if TYPE_CHECKING:
    from .context.builder import ContextBuilder
    from .graph.service import GraphService
    from .interactions.log import InteractionLog
    from .memory.extraction import Extractor
    from .memory.review import ReviewQueue
    from .memory.service import MemoryService
    from .ops.backup import Backups
    from .projects.registry import ProjectRegistry
    from .projects.state import ProjectStateService
    from .search.text_vectors import TextVectors

Progress = Callable[[int, int, str], None]
MAX_TOP_K = 200


class Engine:
    """The engine of one data directory.

    Peewee models are bound to one database per process, so a process holds
    one open Engine at a time (the workstation and the server are separate
    processes sharing a data dir).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.data_dir = settings.data_dir
        self.embedder = Embedder(settings.embedding.model, settings.embedding.allow_download)
        self.db = open_database(settings.data_dir, settings.database.synchronous)
        if not getattr(self.db, "read_only", False):
            from .ops.backup import sweep_partials

            sweep_partials(settings.data_dir)  # interrupted backups of dead processes (issue 11, item 12)
        self.vectors = ChunkVectors(settings.data_dir, self.embedder, settings.index)
        self.semantic = SemanticVectors(settings.data_dir,
                                        SemanticEncoder(threads=settings.retrieval.semantic_threads),
                                        exact_below=settings.index.exact_below)
        self.retriever = Retriever(self.db, self.vectors, settings.retrieval,
                                   self.semantic if settings.retrieval.semantic else None)
        self.ingester = Ingester(self.db, settings, self.vectors)
        self._memo: dict = {}
        """Answers remembered until the next commit (:meth:`_remembered`)."""

    # ------------------------------------------------------------ services
    # Each knowledge layer is a service object built on first use; it holds
    # the engine and is the one way its operations are done.
    @cached_property
    def text_vectors(self) -> TextVectors:
        """Cached embeddings of short texts (memories, state, entities)."""
        from .search.text_vectors import TextVectors

        return TextVectors(self.embedder)

    @cached_property
    def context(self) -> ContextBuilder:
        from .context.builder import ContextBuilder

        return ContextBuilder(self)

    @cached_property
    def projects(self) -> ProjectRegistry:
        from .projects.registry import ProjectRegistry

        return ProjectRegistry(self)

    @cached_property
    def state(self) -> ProjectStateService:
        from .projects.state import ProjectStateService

        return ProjectStateService(self)

    @cached_property
    def memories(self) -> MemoryService:
        from .memory.service import MemoryService

        return MemoryService(self)

    @cached_property
    def review(self) -> ReviewQueue:
        from .memory.review import ReviewQueue

        return ReviewQueue(self)

    @cached_property
    def interactions(self) -> InteractionLog:
        from .interactions.log import InteractionLog

        return InteractionLog(self)

    def extractor(self, external_command: Sequence[str] | None = None) -> Extractor:
        """A new extraction service (the interaction log calls it; it writes
        candidate memories), with the configured timeout."""
        from .memory.extraction import Extractor

        return Extractor(self, external_command=external_command,
                         external_timeout=self.settings.extraction.timeout)

    @cached_property
    def graph(self) -> GraphService:
        from .graph.service import GraphService

        return GraphService(self)

    @cached_property
    def backups(self) -> Backups:
        from .ops.backup import Backups

        return Backups(self)

    # ----------------------------------------------------------------- names
    def known_projects(self) -> set[str]:
        return self.projects.known()

    def resolve_project(self, name: str | None, *, new_label: bool = False) -> str | None:
        """Alias or id -> canonical project id; ``None``/blank stays ``None``.

        ``new_label``: a name nobody uses yet is kept as a project label (the
        original service's free-text project field) instead of refused; it must
        still be a valid project id, so that it can be registered or made an alias.
        """
        if name is None or not str(name).strip():
            return None
        if new_label:
            return self.resolve_project_or_new(name)
        return self._remembered(("resolve", str(name).strip().lower()), lambda: self.projects.resolve(name))

    def project_names(self, project: str) -> list[str]:
        return list(self._remembered(("names", project), lambda: tuple(self.projects.names(project))))

    def _remembered(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered until anyone commits to the database
        (:meth:`change_token`): a pack asked for its project's id and names
        three times, 0.6 ms each on a big data dir. What ``compute`` raises is
        not remembered (an exception raised again would grow its traceback)."""
        try:
            token = self.change_token()
        except sqlite3.Error:  # no second connection (an odd file system): nothing remembered
            return compute()
        memo = self._memo
        if memo.get("token") != token:
            memo = self._memo = {"token": token}  # a new dict: threads may hold the old one
        if key in memo:
            return memo[key]
        value = compute()
        if len(memo) < 4096:
            memo[key] = value
        return value

    # ------------------------------------------------------------- ingestion
    def scope_for(self, path: str | Path | None) -> list[Scope]:
        sources = self.settings.configured_sources()
        if path is None or str(path).strip() == "":
            if not sources:
                raise ValidationError("no sources are configured: set sources.vault (or --vault)")
            return [source_scope(name, root) for name, root in sources.items()]
        return [resolve_scope(path, sources)]

    def ingest(self, path: str | Path | None = None, *, project: str | None = None,
               purge_deleted: bool = False, progress: Progress | None = None,
               cancelled: Callable[[], bool] | None = None) -> IngestReport:
        """Ingest a path inside a source (or every source); incremental by content hash."""
        scopes = self.scope_for(path)
        if project is not None and str(project).strip():
            project = self.resolve_project_or_new(project)
        else:
            project = None
        if self.projects.import_bundled_if_empty() and project:
            project = self.resolve_project_or_new(project)  # it may be a bundled alias
        project_for = self.projects.path_resolver()
        canonical = functools.lru_cache(maxsize=None)(self._front_matter_project)  # per run
        report = IngestReport()
        for scope in scopes:
            report.merge(self.ingester.run(scope, project=project, purge_deleted=purge_deleted,
                                           progress=progress, project_for=project_for,
                                           canonical=canonical, cancelled=cancelled))
        return report

    def _front_matter_project(self, name: str) -> str:
        """A note's own ``project:`` — an alias resolves; an unknown name is kept
        as written (lower-cased), a known-but-unregistered project."""
        try:
            return self.resolve_project(name) or ""
        except (NotFound, ValidationError):
            return str(name).strip().lower()

    def resolve_project_or_new(self, name: str) -> str:
        """For ingestion: a known name resolves; a new one must be a valid slug."""
        from .projects.registry import SLUG_RULE, is_slug

        try:
            return self.resolve_project(name) or ""
        except NotFound:
            slug = str(name).strip().lower()
            if not is_slug(slug):
                raise ValidationError(
                    f"invalid project id {name!r}: use {SLUG_RULE}") from None
            return slug

    # -------------------------------------------------------------- retrieval
    def query(self, prompt: str, top_k: int | None = None, *, project: str | None = None,
              tags: Sequence[str] | None = None, only_project: bool = False) -> list[Hit]:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt must not be blank")
        top_k = self.settings.retrieval.top_k if top_k is None else top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise ValidationError(f"top_k must be a whole number from 1 to {MAX_TOP_K}")
        canonical = self.resolve_project(project)
        request = RetrievalRequest(
            prompt=prompt, top_k=top_k, project=canonical,
            project_names=self.project_names(canonical) if canonical else (),
            tags=[t for t in (tags or []) if t and t.strip()], only_project=only_project)
        return self.retriever.retrieve(request)

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, dict]:
        """Chunks by id with where they come from; ids no longer in the store
        (their note was re-ingested or deleted) or malformed are left out."""
        from .ingest.pipeline import key_of
        from .store import fts

        keys = {}
        for chunk_id in chunk_ids:
            try:
                key = key_of(str(chunk_id))
            except ValueError:
                continue
            if 0 <= key < 2 ** 63:
                keys[key] = str(chunk_id)
        rows = fts.chunk_rows(self.db, list(keys))
        return {row.chunk_id: {"chunk_id": row.chunk_id, "title": row.title,
                               "heading_path": row.heading_path, "content": row.content,
                               "source": row.source, "path": row.path, "project": row.project,
                               "line_start": row.line_start, "line_end": row.line_end}
                for row in rows.values()}

    def rebuild_index(self, progress: Progress | None = None) -> float:
        from .locks import ingest_lock

        with ingest_lock(self.data_dir, self.settings.ingest.lock_timeout, purpose="index rebuild"):
            return self.vectors.rebuild("requested", progress)

    # --------------------------------------------------------- semantic pass
    def semantic_pass(self, progress: Progress | None = None,
                      cancelled: Callable[[], bool] | None = None) -> int:
        """Compute the semantic vectors still missing, here and now; returns
        how many chunks were encoded (0 when off, or another process runs it)."""
        if not self.settings.retrieval.semantic:
            return 0
        return self.semantic.run(progress, cancelled)

    def start_semantic_pass(self, on_error: Callable[[str], None] | None = None) -> bool:
        """The same in a low-priority background thread (workstation, server),
        when ``retrieval.semantic_background`` allows it and some chunk of the
        store's current version lacks its vector; True if started. Cheap to
        call after any change: nothing starts when the vectors are complete."""
        if not (self.settings.retrieval.semantic and self.settings.retrieval.semantic_background):
            return False
        if self.semantic.complete(chunks_version()):
            return False
        return self.semantic.start(on_error)

    def semantic_progress(self) -> dict:
        if not self.settings.retrieval.semantic:
            return {"enabled": False}
        return {"enabled": True, **self.semantic.progress().to_dict()}

    # ----------------------------------------------------------------- status
    def status(self) -> dict:
        meta = self.vectors.index.read_meta()
        index_file = self.vectors.index.path
        db_file = self.data_dir / DB_FILENAME
        return {
            "data_dir": str(self.data_dir),
            "config": str(self.settings.config_path) if self.settings.config_path else None,
            "sources": {n: {"path": str(p), "exists": p.is_dir()}
                        for n, p in self.settings.configured_sources().items()},
            "database": {"path": str(db_file), "bytes": _size(db_file), "schema_version": SCHEMA_VERSION},
            "documents": Document.select().count(),
            "chunks": (chunk_count := Chunk.select().count()),
            "projects": sorted(self.known_projects()),
            "index": {
                "path": str(index_file),
                "bytes": _size(index_file),
                "vectors": meta.count if meta else 0,
                "model": meta.model if meta else None,
                "dtype": meta.dtype if meta else None,
                # current = proven consistent: the store's version and one vector per chunk
                "current": meta is not None and meta.version == chunks_version() and meta.count == chunk_count,
            },
            "embedding_model": self.settings.embedding.model or "bundled",
            "semantic": self.semantic_progress(),
            "ingesting": holder(self.data_dir) if is_locked(self.data_dir) else None,
        }

    def table_counts(self) -> dict[str, int]:
        """Rows per table of the store, by table name."""
        return {model._meta.table_name: model.select().count() for model in MODELS}

    def palette_items(self, kind: Literal["memory", "entity"]) -> list[tuple[str, str, str]]:
        """What a command palette offers to open: ``(title, help, id)`` for the
        live memories (active and candidate; at most 2,000) or the entities not
        superseded (at most 5,000)."""
        from .store.models import Entity, Memory

        if kind == "memory":
            memories = (Memory.select(Memory.id, Memory.memory_type, Memory.content, Memory.status)
                        .where(Memory.status.in_(("active", "candidate"))).limit(2000).tuples())
            return [(f"Memory: {content[:70]}", f"{mtype} · {status}", mid)
                    for mid, mtype, content, status in memories]
        if kind == "entity":
            entities = (Entity.select(Entity.id, Entity.name, Entity.entity_type, Entity.project)
                        .where(Entity.status != "superseded").limit(5000).tuples())
            return [(f"Entity: {name}", f"{etype} · {project}", eid) for eid, name, etype, project in entities]
        raise ValidationError(f"palette items are 'memory' or 'entity', not {kind!r}")

    def change_token(self) -> int:
        """A number that changes when anyone commits to the database: another
        process (the server, the CLI) or another connection of this one. Cheap
        enough to poll every second: ``PRAGMA data_version`` on a connection
        kept for it alone (it counts the commits of every other connection;
        closed with the engine object)."""
        import threading
        import weakref

        lock = self.__dict__.setdefault("_watch_lock", threading.Lock())
        with lock:
            watch = self.__dict__.get("_watch")
            if watch is None:
                watch = sqlite3.connect(str(self.data_dir / DB_FILENAME), check_same_thread=False,
                                        isolation_level=None)
                weakref.finalize(self, watch.close)
                self._watch = watch
            return int(watch.execute("PRAGMA data_version").fetchone()[0])

    def activate(self) -> None:
        """Bind the models to this engine's database again (after another Engine
        in this process bound them to its own; tests do this)."""
        self.db.bind(MODELS, bind_refs=False, bind_backrefs=False)
        self.db.connect(reuse_if_open=True)

    def close(self) -> None:
        self.semantic.stop()
        if not self.db.is_closed():
            self.db.close()


def _size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
