import sqlite3

import pytest

from atocore_tui.search.terms import query_terms
from atocore_tui.store import (
    MODELS,
    SCHEMA_VERSION,
    Chunk,
    Document,
    Memory,
    get_meta,
    integrity_check,
    open_database,
)
from atocore_tui.store.db import MIGRATIONS, SchemaTooNew, add_columns, migrate_database
from atocore_tui.store.fts import match_expression
from atocore_tui.store.fts import search as fts_search


def search(db, text, limit):
    return fts_search(db, query_terms(text), limit)


def test_new_database_is_wal_with_busy_timeout_and_current_schema(tmp_path):
    db = open_database(tmp_path)
    try:
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert get_meta("schema_version") == str(SCHEMA_VERSION)
        tables = set(db.get_tables())
        assert {m._meta.table_name for m in MODELS} <= tables
        assert "chunk_fts" in tables
    finally:
        db.close()


def test_every_spec_entity_has_a_table():
    names = {m.__name__ for m in MODELS}
    assert names >= {"Project", "Document", "Chunk", "Memory", "MemoryAudit", "ProjectState",
                     "Interaction", "Entity", "Relationship", "EntityAudit", "Conflict",
                     "ConflictMember", "Alert"}


def _add_chunk(key, content, path="a.md"):
    doc, _ = Document.get_or_create(source="vault", path=path,
                                    defaults=dict(content_hash="h", size=1, mtime=0.0))
    return Chunk.create(key=key, chunk_id=f"{key:016x}", document=doc, ordinal=key, content=content,
                        content_hash=str(key), char_start=0, char_end=len(content), line_start=1,
                        line_end=1, title="T", tags=["alpha"])


def test_fts_follows_inserts_updates_and_deletes(tmp_path):
    db = open_database(tmp_path)
    try:
        with db.atomic():
            _add_chunk(1, "titanium housing for the drive")
            _add_chunk(2, "aluminium cold plate channels")
        assert [k for k, _ in search(db, "titanium", 10)] == [1]
        Chunk.update(content="magnesium housing").where(Chunk.key == 1).execute()
        assert search(db, "titanium", 10) == []
        assert [k for k, _ in search(db, "magnesium", 10)] == [1]
        Chunk.delete().where(Chunk.key == 2).execute()
        assert search(db, "aluminium", 10) == []
        assert [k for k, _ in search(db, "alpha", 10)] == [1]  # tags are searchable
        assert integrity_check(db) == "ok"
    finally:
        db.close()


def test_failed_transaction_leaves_neither_chunk_nor_fts_row(tmp_path):
    db = open_database(tmp_path)
    try:
        with pytest.raises(RuntimeError):
            with db.atomic():
                _add_chunk(7, "beryllium copper spring")
                raise RuntimeError("crash mid-write")
        assert Chunk.select().count() == 0
        assert search(db, "beryllium", 10) == []
    finally:
        db.close()


@pytest.mark.parametrize("text", ['"unbalanced', "AND OR NOT", "a*b:c-d", "NEAR(x y)", "(", "'; DROP"])
def test_query_text_can_never_be_an_fts_syntax_error(tmp_path, text):
    db = open_database(tmp_path)
    try:
        _add_chunk(1, "some content")
        search(db, text, 5)  # must not raise
    finally:
        db.close()
    assert match_expression(query_terms("the of and")) is None


def test_older_database_is_migrated_without_loss(tmp_path):
    """A data dir from before schema versions (tables, no meta row) opens and keeps its rows."""
    path = tmp_path / "atocore.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE memory (id VARCHAR(255) PRIMARY KEY, memory_type VARCHAR(255), "
                "content TEXT, project VARCHAR(255), confidence REAL, status VARCHAR(255), "
                "reference_count INTEGER, last_referenced_at VARCHAR(255), source_interaction "
                "VARCHAR(255), graduated_to_entity VARCHAR(255), created_at VARCHAR(255), "
                "updated_at VARCHAR(255))")
    raw.execute("INSERT INTO memory VALUES ('m1','knowledge','PEEK creeps above 140 C','',0.9,"
                "'active',0,NULL,NULL,NULL,'2026-01-01 00:00:00','2026-01-01 00:00:00')")
    raw.commit()
    raw.close()
    db = open_database(tmp_path)
    try:
        assert Memory.get_by_id("m1").content == "PEEK creeps above 140 C"
        assert get_meta("schema_version") == str(SCHEMA_VERSION)
    finally:
        db.close()


def test_additive_migration_step_adds_a_column_once(tmp_path):
    db = open_database(tmp_path)
    try:
        add_columns(db, "alert", extra_note="TEXT NOT NULL DEFAULT ''")
        add_columns(db, "alert", extra_note="TEXT NOT NULL DEFAULT ''")  # idempotent
        assert "extra_note" in {c.name for c in db.get_columns("alert")}
    finally:
        db.close()


def test_a_version_3_data_dir_with_notes_migrates_without_loss(tmp_path):
    """Each released step after 3 runs on a populated older database."""
    from atocore_tui.engine import Engine

    from .conftest import SAMPLE_VAULT, make_settings

    engine = Engine(make_settings(tmp_path / "d", SAMPLE_VAULT))
    engine.ingest()
    documents, chunks = Document.select().count(), Chunk.select().count()
    engine.db.execute_sql('ALTER TABLE document DROP COLUMN "front_matter_project"')
    engine.db.execute_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    engine.close()
    engine = Engine(make_settings(tmp_path / "d", SAMPLE_VAULT))
    try:
        assert get_meta("schema_version") == str(SCHEMA_VERSION)
        assert (Document.select().count(), Chunk.select().count()) == (documents, chunks)
        assert integrity_check(engine.db) == "ok"
        summary = engine.ingest().summary()
        assert summary["ingested"] == 0 and summary["chunks_added"] == summary["chunks_updated"] == 0
        assert "front_matter_project" in {c.name for c in engine.db.get_columns("document")}
    finally:
        engine.close()


def test_newer_schema_is_refused(tmp_path):
    db = open_database(tmp_path)
    db.execute_sql("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 5),))
    with pytest.raises(SchemaTooNew):
        migrate_database(db)
    db.close()
    assert MIGRATIONS[0][0] == 1
