"""Opening a data directory's database: pragmas, schema version, migrations.

SQLite runs in WAL mode with a busy timeout so that the workstation and the
server can share one data directory. Migrations are additive and numbered; each
runs in its own transaction and bumps ``schema_version`` in the ``meta`` table.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from ..errors import AtoCoreError
from .fts import TOKENIZER
from .models import MODELS, Meta

DB_FILENAME = "atocore.db"
BUSY_TIMEOUT_MS = 10_000

READ_CACHE_KIB = 4_000
"""Page cache of each connection. The server gives each of its threads a
connection, so this is paid per thread: at 32 MB a server on 100k chunks grew
from 310 to 371 MB of heap over a 10-minute load as the caches filled, while
queries ran no faster than with 2 MB (pages come from the OS's file cache)."""
WRITE_CACHE_KIB = 64_000
"""Page cache of a connection while it ingests (see :func:`write_cache`)."""

PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": BUSY_TIMEOUT_MS,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -READ_CACHE_KIB,
}


@contextmanager
def write_cache(db: SqliteDatabase) -> Iterator[None]:
    """A larger page cache for the calling thread's connection while it writes
    many rows (chunk keys are random, so inserts touch pages all over the
    table), back to the reading size after (SQLite frees the surplus pages)."""
    db.execute_sql(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        db.execute_sql(f"PRAGMA cache_size = -{READ_CACHE_KIB}")


def _create_schema(db: SqliteDatabase) -> None:
    db.create_tables(MODELS, safe=True)
    for statement in FTS_SCHEMA:
        db.execute_sql(statement)


# An external-content FTS5 table over chunks. The triggers keep it in step with
# the chunk table inside the very transaction that writes the chunk.
FTS_SCHEMA = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS chunk_fts USING fts5(
        title, heading_path, tags, content,
        content='chunk', content_rowid='key',
        tokenize='""" + TOKENIZER + """')""",
    """CREATE TRIGGER IF NOT EXISTS chunk_fts_insert AFTER INSERT ON chunk BEGIN
        INSERT INTO chunk_fts(rowid, title, heading_path, tags, content)
        VALUES (new.key, new.title, new.heading_path, new.tags, new.content);
    END""",
    """CREATE TRIGGER IF NOT EXISTS chunk_fts_delete AFTER DELETE ON chunk BEGIN
        INSERT INTO chunk_fts(chunk_fts, rowid, title, heading_path, tags, content)
        VALUES ('delete', old.key, old.title, old.heading_path, old.tags, old.content);
    END""",
    """CREATE TRIGGER IF NOT EXISTS chunk_fts_update AFTER UPDATE ON chunk BEGIN
        INSERT INTO chunk_fts(chunk_fts, rowid, title, heading_path, tags, content)
        VALUES ('delete', old.key, old.title, old.heading_path, old.tags, old.content);
        INSERT INTO chunk_fts(rowid, title, heading_path, tags, content)
        VALUES (new.key, new.title, new.heading_path, new.tags, new.content);
    END""",
)


def add_columns(db: SqliteDatabase, table: str, **definitions: str) -> None:
    """An additive migration step: add columns that an older schema lacks.

    ``definitions`` are SQL column definitions (``"VARCHAR(255) NOT NULL
    DEFAULT ''"``): SQLite adds such a column in place, rows keep their data
    and get the default; no table is rebuilt (Peewee's migrator would rebuild
    it to add NOT NULL, which fails under the FTS triggers and foreign keys).
    """
    existing = {column.name for column in db.get_columns(table)}
    for name, definition in definitions.items():
        if name not in existing:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {definition}')


def _query_indexes(db: SqliteDatabase) -> None:
    """Composite indexes for graph walks and gaps: edges looked up by (end, type) in one
    probe (the FK indexes alone also read the edges of other types), entities by
    (project, type, status) for the gap queries. And the interaction log filtered
    by project/client/session, newest first: without them SQLite sorts every
    matching row (9-13 ms at 10k interactions; under 1 ms with them,
    bench/interactions_bench.py)."""
    for statement in (
        "CREATE INDEX IF NOT EXISTS interaction_project_created ON interaction (project, created_at)",
        "CREATE INDEX IF NOT EXISTS interaction_client_created ON interaction (client, created_at)",
        "CREATE INDEX IF NOT EXISTS interaction_session_created ON interaction (session_id, created_at)",
        "CREATE INDEX IF NOT EXISTS relationship_source_type ON relationship (source_id, relationship_type)",
        "CREATE INDEX IF NOT EXISTS relationship_target_type ON relationship (target_id, relationship_type)",
        "CREATE INDEX IF NOT EXISTS entity_project_type_status ON entity (project, entity_type, status)",
    ):
        db.execute_sql(statement)


def _fts_vocabulary(db: SqliteDatabase) -> None:
    """Per-term document counts of the chunk index (read by retrieval to keep a
    query's BM25 work bounded on big vaults)."""
    db.execute_sql("CREATE VIRTUAL TABLE IF NOT EXISTS chunk_fts_vocab USING fts5vocab('chunk_fts', 'row')")


def _document_front_matter_project(db: SqliteDatabase) -> None:
    """The project a note names in its own front matter, as written: lets a
    re-ingest of unchanged bytes know the project without parsing the note."""
    add_columns(db, "document", front_matter_project="VARCHAR(255) NOT NULL DEFAULT ''")


def _memory_list_indexes(db: SqliteDatabase) -> None:
    """Memories newest-changed first (the memory list of every face), by status
    or not: SQLite walks the index on updated_at and sorts only the ties, where
    it sorted every matching memory (9,000 memories: 10 ms -> 0.3 ms)."""
    db.execute_sql("CREATE INDEX IF NOT EXISTS memory_status_updated ON memory (status, updated_at)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS memory_updated ON memory (updated_at)")


# (version, step). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, Callable[[SqliteDatabase], None]]] = [
    (1, _create_schema),
    (2, _query_indexes),
    (3, _fts_vocabulary),
    (4, _document_front_matter_project),
    (5, _memory_list_indexes),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaTooNew(AtoCoreError):
    """The database was written by a newer AtoCore TUI."""


class StorageError(AtoCoreError):
    """The disk under the data directory failed us: the message says what
    happened and what to do (damaged file, full disk, read-only folder)."""


class DatabaseDamaged(StorageError):
    """The database file is damaged (not a database, truncated, corrupt pages, empty)."""

    def __init__(self, path: Path, detail: str):
        self.path = path
        super().__init__(
            f"the database {path} is damaged ({detail}); nothing was changed. Run `atocore-tui doctor` "
            "to see what is wrong, then `atocore-tui doctor --restore-latest` (newest valid backup) "
            "or `atocore-tui doctor --salvage` (copy what is readable into a fresh database)")


class DiskFull(StorageError):
    """No space left for the data directory."""


class ReadOnlyStorage(StorageError):
    """The data directory (or its database) cannot be written."""


_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
_READ_ONLY = {"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"}
_FULL = {"SQLITE_FULL"}


def _sqlite_causes(error: BaseException) -> list[sqlite3.Error]:
    """Every sqlite3 error in an exception's chain: Peewee wraps the original
    as its first argument, and a failed commit's real reason (SQLITE_FULL) can
    sit in the context of a later "cannot rollback" error."""
    found: list[sqlite3.Error] = []
    queue: list[BaseException] = [error]
    seen: set[int] = set()
    while queue and len(seen) < 20:
        item = queue.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, sqlite3.Error):
            found.append(item)
        queue.extend(c for c in (*getattr(item, "args", ())[:1], item.__cause__, item.__context__)
                     if isinstance(c, BaseException))
    return found


def busy_error(error: BaseException) -> AtoCoreError | None:
    """A clear :class:`~atocore_tui.errors.Busy` for a write that waited the
    whole busy timeout for the database's write lock (a restore or a long
    write held it), or None."""
    from ..errors import Busy

    for cause in _sqlite_causes(error):
        name = getattr(cause, "sqlite_errorname", "") or ""
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(cause):
            return Busy(f"the database stayed locked for {BUSY_TIMEOUT_MS // 1000} s (a restore or a long "
                        "write holds it); nothing was written, try again")
    return None


def storage_error(error: BaseException, data_dir: Path | None = None) -> StorageError | None:
    """A clear :class:`StorageError` for a low-level failure of the disk or the
    database file, or None when ``error`` is something else (a bug, a busy lock)."""
    where = f" ({data_dir})" if data_dir is not None else ""
    if isinstance(error, StorageError):
        return error
    if isinstance(error, OSError) and not isinstance(error, sqlite3.Error):
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return DiskFull(f"the disk is full{where}: {error.strerror}; nothing more was written. "
                            "Free some space and run the command again")
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            name = getattr(error, "filename", None) or data_dir
            return ReadOnlyStorage(f"cannot write {name}: {error.strerror}. Make the data directory "
                                   "writable (or use --data-dir) and run the command again")
        if error.errno == errno.EIO:
            return StorageError(f"the disk failed a write{where}: {error.strerror}; check the disk and run "
                                "`atocore-tui doctor`")
        if error.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
            name = getattr(error, "filename2", None) or getattr(error, "filename", None) or data_dir
            return StorageError(f"cannot use {name}: {error.strerror} (something else is in the way of a "
                                "file AtoCore writes); move it aside and run the command again")
        return None
    for cause in _sqlite_causes(error):
        name = getattr(cause, "sqlite_errorname", "") or ""
        text = str(cause)
        if name in _DAMAGED or "malformed" in text or "not a database" in text:
            return DatabaseDamaged((data_dir / DB_FILENAME) if data_dir else Path(DB_FILENAME), text)
        if name in _FULL or "disk is full" in text:
            return DiskFull(f"the disk is full{where}: SQLite could not write ({text}); the last change was "
                            "rolled back. Free some space and run the command again")
        if name in _READ_ONLY or "readonly" in text:
            return ReadOnlyStorage(f"the database cannot be written{where}: {text}. Read-only commands "
                                   "(status, query, context, backup list) still work; make the data "
                                   "directory writable to change anything")
    if isinstance(error, BaseException) and not isinstance(error, OSError):
        for linked in (error.__context__, error.__cause__):
            if isinstance(linked, OSError) and not isinstance(linked, sqlite3.Error):
                return storage_error(linked, data_dir)
    return None


def schema_version(db: SqliteDatabase) -> int:
    if not db.table_exists("meta"):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


SYNCHRONOUS_MODES = ("normal", "full")
CHECKED_SUFFIX = ".checked"
"""Beside the database: the file state (size, mtime, inode) that last passed
``quick_check``. quick_check reads the whole file (~25 ms for 10.8 MB here),
so an unchanged file is not checked again; any write that reaches the file
(a checkpoint, a tool writing into it) changes its mtime and brings the check back."""


def _file_state(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns} {stat.st_ino}"


def _checked_before(path: Path) -> bool:
    try:
        return path.with_name(path.name + CHECKED_SUFFIX).read_text(encoding="ascii") == _file_state(path)
    except (OSError, ValueError):
        return False


def _remember_checked(path: Path) -> None:
    try:
        marker = path.with_name(path.name + CHECKED_SUFFIX)
        tmp = marker.with_name(marker.name + f".{os.getpid()}")
        tmp.write_text(_file_state(path), encoding="ascii")
        os.replace(tmp, marker)
    except OSError:
        pass  # only a speed-up


def open_database(data_dir: Path, synchronous: str = "normal") -> SqliteDatabase:
    """Open (creating if needed) the data directory's database and migrate it.

    An existing file is checked first (``PRAGMA quick_check``, skipped when the
    file is unchanged since it last passed: :data:`CHECKED_SUFFIX`), so a
    damaged database is refused with :class:`DatabaseDamaged` before anything
    writes into it; a 0-byte file is damaged, not a new store. A
    data directory that cannot be written opens read-only (reads work,
    writes raise :class:`ReadOnlyStorage`).
    """
    path = data_dir / DB_FILENAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        exists = path.exists()
        size = path.stat().st_size if exists else 0
    except OSError as exc:
        raise storage_error(exc, data_dir) or StorageError(
            f"cannot open the data directory {data_dir}: {exc.strerror or exc}") from None
    if exists and size == 0:
        raise DatabaseDamaged(path, "the file is empty (0 bytes)")
    read_only = exists and not (os.access(path, os.W_OK) and os.access(data_dir, os.W_OK))
    if not exists and not os.access(data_dir, os.W_OK):
        raise ReadOnlyStorage(f"cannot create a database in {data_dir}: the folder is read-only. "
                              "Make it writable or choose another --data-dir")
    pragmas = {**PRAGMAS, "synchronous": synchronous}
    if read_only:
        # immutable: no -wal/-shm files are created (the folder may be read-only)
        pragmas = {k: v for k, v in pragmas.items() if k not in ("journal_mode", "synchronous")}
        db = SqliteDatabase(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, pragmas=pragmas,
                            timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two
        # processes queue on the busy timeout instead of failing to upgrade a lock.
        db = SqliteDatabase(str(path), pragmas=pragmas,
                            timeout=BUSY_TIMEOUT_MS / 1000, lock_type="IMMEDIATE")
    db.read_only = read_only
    db.bind(MODELS, bind_refs=False, bind_backrefs=False)
    try:
        db.connect(reuse_if_open=True)
        if exists and not _checked_before(path):
            problem = db.execute_sql("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                raise DatabaseDamaged(path, "integrity check: " + " ".join(problem.split()))
            if not read_only:
                _remember_checked(path)
        if read_only:
            if schema_version(db) < SCHEMA_VERSION:
                raise ReadOnlyStorage(f"the database {path} needs an upgrade but its folder is read-only; "
                                      "make it writable and run the command again")
        else:
            migrate_database(db)
    except (DatabaseError, sqlite3.Error) as exc:
        db.close()
        raise storage_error(exc, data_dir) or busy_error(exc) or StorageError(
            f"cannot open the database {path}: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


def migrate_database(db: SqliteDatabase) -> int:
    """Run every migration newer than the stored version; returns the version."""
    with db.atomic():
        current = schema_version(db)
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the database has schema version {current}; this AtoCore TUI knows up to {SCHEMA_VERSION}")
        for version, step in MIGRATIONS:
            if version > current:
                step(db)
                Meta.replace(key="schema_version", value=str(version)).execute()
                current = version
    return current


def get_meta(key: str, default: str | None = None) -> str | None:
    # Plain SQL: read on every query (chunks_version), where a model query cost ~1 ms.
    row = Meta._meta.database.execute_sql("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(key: str, value: str) -> None:
    Meta.replace(key=key, value=value).execute()


def bump_counter(key: str) -> int:
    """Increment an integer in ``meta`` (call inside the writing transaction)."""
    value = int(get_meta(key, "0") or 0) + 1
    set_meta(key, str(value))
    return value


def integrity_check(db: SqliteDatabase) -> str:
    return db.execute_sql("PRAGMA integrity_check").fetchone()[0]
