"""Opening a data directory's database: pragmas, schema version, migrations.

SQLite runs in WAL mode with a busy timeout so that the workstation and the
server can share one data directory. Migrations are additive and numbered; each
runs in its own transaction and bumps ``schema_version`` in the ``meta`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from peewee import SqliteDatabase

from ..errors import AtoCoreError
from .models import MODELS, Meta

DB_FILENAME = "atocore.db"
BUSY_TIMEOUT_MS = 10_000

PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": BUSY_TIMEOUT_MS,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32_000,
}


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
        tokenize='porter unicode61 remove_diacritics 2')""",
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


# (version, step). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, Callable[[SqliteDatabase], None]]] = [
    (1, _create_schema),
    (2, _query_indexes),
    (3, _fts_vocabulary),
    (4, _document_front_matter_project),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaTooNew(AtoCoreError):
    """The database was written by a newer AtoCore TUI."""


def schema_version(db: SqliteDatabase) -> int:
    if not db.table_exists("meta"):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


def open_database(data_dir: Path) -> SqliteDatabase:
    """Open (creating if needed) the data directory's database and migrate it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two
    # processes queue on the busy timeout instead of failing to upgrade a lock.
    db = SqliteDatabase(str(data_dir / DB_FILENAME), pragmas=PRAGMAS,
                        timeout=BUSY_TIMEOUT_MS / 1000, lock_type="IMMEDIATE")
    db.bind(MODELS, bind_refs=False, bind_backrefs=False)
    db.connect(reuse_if_open=True)
    migrate_database(db)
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
