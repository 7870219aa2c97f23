import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.errors import Busy, NotFound, ValidationError
from atocore_tui.locks import ingest_lock
from atocore_tui.search.terms import query_terms
from atocore_tui.store import Chunk, Document, get_meta, integrity_check
from atocore_tui.store.fts import search as fts_search

from .conftest import ROOT, make_settings, write


def fts_paths(engine, text):
    keys = [key for key, _ in fts_search(engine.db, query_terms(text), 50)]
    return {c.document.path for c in Chunk.select(Chunk, Document).join(Document).where(Chunk.key.in_(keys))}


def counts(engine):
    return Document.select().count(), Chunk.select().count(), len(engine.vectors.index)


def test_sample_vault_twice_second_run_writes_nothing(engine):
    first = engine.ingest()
    summary = first.summary()
    assert summary["ingested"] >= 25
    assert summary["chunks_added"] > 0 and summary["chunks_updated"] == 0
    version = get_meta("chunks_version")
    db_file = engine.data_dir / "atocore.db"
    before = counts(engine)
    second = engine.ingest().summary()
    assert second["ingested"] == 0
    assert second["unchanged"] == summary["ingested"]
    assert second["chunks_added"] == second["chunks_updated"] == second["chunks_removed"] == 0
    assert get_meta("chunks_version") == version
    assert counts(engine) == before
    assert db_file.exists()


def test_bad_files_are_skipped_with_reasons_and_ingestion_completes(engine):
    summary = engine.ingest().summary()
    skipped = {item["path"]: item["reason"] for item in summary["skipped"]}
    png = [p for p in skipped if p.endswith(".png")]
    latin = [p for p in skipped if "latin1" in p]
    assert png and "unsupported file type" in skipped[png[0]]
    assert latin and "not UTF-8" in skipped[latin[0]]
    assert any("malformed front matter" in w["warning"] for w in summary["warnings"])
    paths = {d.path for d in Document.select()}
    assert not any(part.startswith(".") for p in paths for part in Path(p).parts)
    assert not any(p.startswith((".trash", ".obsidian")) for p in skipped)


def test_binary_large_and_non_utf8_markdown(tmp_path):
    vault = tmp_path / "v"
    write(vault / "good.md", "# Good\n\nbody text about flanges\n")
    (vault / "binary.md").write_bytes(b"# x\x00\x01\x02")
    (vault / "latin.md").write_bytes("# Caf\xe9 notes\n".encode("latin-1"))
    write(vault / "huge.md", "# Huge\n\n" + "x" * 5000)
    write(vault / ".obsidian" / "hidden.md", "# hidden\n")
    engine = Engine(make_settings(tmp_path / "d", vault, **{"ingest.max_file_bytes": 4000}))
    try:
        summary = engine.ingest().summary()
        reasons = {s["path"]: s["reason"] for s in summary["skipped"]}
        assert reasons["binary.md"] == "binary content"
        assert reasons["latin.md"].startswith("not UTF-8")
        assert reasons["huge.md"].startswith("too large")
        assert summary["ingested"] == 1 and summary["files_seen"] == 4
        assert [d.path for d in Document.select()] == ["good.md"]
    finally:
        engine.close()


def test_editing_one_note_rechunks_only_that_note(engine, vault):
    engine.ingest()
    note = next(vault.glob("projects/orion-drive/decision-gearbox-lubricant.md"))
    others_before = {c.chunk_id: c.content for c in Chunk.select().join(Document)
                     .where(Document.path != "projects/orion-drive/decision-gearbox-lubricant.md")}
    text = note.read_text(encoding="utf-8")
    note.write_text(text.rstrip() + "\n\n## Addendum\n\nWe also checked zirconium phosphate "
                    "additive compatibility with the PEEK cage; no swelling after 500 h.\n",
                    encoding="utf-8")
    summary = engine.ingest().summary()
    assert summary["ingested"] == 1
    assert summary["unchanged"] >= 24
    assert summary["chunks_added"] + summary["chunks_updated"] >= 1
    others_after = {c.chunk_id: c.content for c in Chunk.select().join(Document)
                    .where(Document.path != "projects/orion-drive/decision-gearbox-lubricant.md")}
    assert others_after == others_before
    assert "projects/orion-drive/decision-gearbox-lubricant.md" in fts_paths(engine, "zirconium phosphate")
    hits = engine.query("zirconium phosphate additive PEEK cage swelling", 3)
    assert hits[0].source_file.endswith("decision-gearbox-lubricant.md")


def test_chunk_ids_are_stable_across_data_dirs(tmp_path, vault):
    ids = []
    for name in ("a", "b"):
        eng = Engine(make_settings(tmp_path / name, vault))
        eng.ingest()
        ids.append(sorted(c.chunk_id for c in Chunk.select()))
        eng.close()
    assert ids[0] == ids[1]


def test_delete_with_purge_removes_chunks_everywhere(engine, vault):
    engine.ingest()
    rel = "projects/orion-drive/dust-seal-design.md"
    doc = Document.get(Document.path == rel)
    keys = [c.key for c in doc.chunks]
    assert keys and rel in fts_paths(engine, "seal")
    (vault / rel).unlink()
    kept = engine.ingest().summary()
    assert kept["missing"] == [rel]  # without purge: reported, kept
    assert Document.get_or_none(Document.path == rel) is not None
    purged = engine.ingest(purge_deleted=True).summary()
    assert purged["removed"] == [rel]
    assert purged["chunks_removed"] == len(keys)
    assert Document.get_or_none(Document.path == rel) is None
    assert Chunk.select().where(Chunk.key.in_(keys)).count() == 0
    assert rel not in fts_paths(engine, "seal")
    assert not any(key in engine.vectors.index.index for key in keys)
    assert integrity_check(engine.db) == "ok"


def test_ingest_a_single_file_and_a_subfolder(engine, vault):
    report = engine.ingest(vault / "projects" / "coldplate").summary()
    assert report["ingested"] >= 5
    assert {d.path.split("/")[1] for d in Document.select()} == {"coldplate"}
    one = engine.ingest("personal").summary()  # relative to the vault
    assert one["ingested"] >= 1
    assert engine.ingest(vault / "projects" / "coldplate").summary()["ingested"] == 0


def test_project_from_front_matter_then_flag(engine, vault):
    write(vault / "inbox" / "loose.md", "# Loose note\n\nA note about torque ripple.\n")
    engine.ingest(vault / "inbox", project="orion-drive")
    assert Document.get(Document.path == "inbox/loose.md").project == "orion-drive"
    engine.ingest()
    projects = {d.project for d in Document.select().where(Document.path.startswith("projects/coldplate/"))}
    assert "coldplate" in projects


@pytest.mark.parametrize("bad", ["/etc", "../../../etc/passwd", "/tmp/../etc"])
def test_paths_outside_sources_are_refused(engine, bad):
    with pytest.raises(ValidationError, match="outside the configured sources"):
        engine.ingest(bad)
    assert Document.select().count() == 0


def test_symlink_escape_is_refused(engine, vault, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "secret.md", "# Secret\n\nnot for the vault\n")
    (vault / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValidationError):
        engine.ingest(vault / "link")
    (vault / "personal" / "secret-link.md").symlink_to(outside / "secret.md")
    summary = engine.ingest().summary()
    reasons = {s["path"]: s["reason"] for s in summary["skipped"]}
    assert reasons["personal/secret-link.md"] == "symlink points outside the source"


def test_unknown_path_and_invalid_project(engine):
    with pytest.raises(NotFound):
        engine.ingest("no/such/folder")
    with pytest.raises(ValidationError, match="invalid project id"):
        engine.ingest(project="Not A Slug!")
    assert Document.select().count() == 0


def test_progress_reports_every_file(engine):
    calls = []
    engine.ingest(progress=lambda done, total, label: calls.append((done, total, label)))
    file_calls = [c for c in calls if c[2] != "embedding chunks"]
    assert file_calls[-1][0] == file_calls[-1][1]
    assert [c[0] for c in file_calls] == list(range(1, file_calls[-1][1] + 1))


def test_lock_refuses_a_second_ingestion_in_process(engine):
    with ingest_lock(engine.data_dir):
        with pytest.raises(Busy, match="already running"):
            engine.ingest()
    assert Document.select().count() == 0


def test_two_ingest_processes_one_is_refused_nothing_corrupted(tmp_path, vault):
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import sys, time
        from atocore_tui.locks import ingest_lock
        from pathlib import Path
        with ingest_lock(Path({str(data)!r})):
            print("locked", flush=True)
            time.sleep(30)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = subprocess.run(
            [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
             "ingest", "--json"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 4
        assert "another ingestion holds the lock" in result.stderr
        assert f"pid {holder.pid}" in result.stderr
    finally:
        holder.kill()
        holder.wait()
    runs = [subprocess.Popen(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
         "ingest", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)]
    outcomes = [(r.wait(timeout=180), r.stdout.read(), r.stderr.read()) for r in runs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes[0] == 0 and codes[1] in (0, 4)
    for code, _out, err in outcomes:
        if code == 4:
            assert "lock" in err
    engine = Engine(make_settings(data, vault))
    try:
        assert integrity_check(engine.db) == "ok"
        assert engine.ingest().summary()["ingested"] == 0  # everything got in exactly once
        assert Chunk.select().count() == engine.db.execute_sql("SELECT count(*) FROM chunk_fts").fetchone()[0]
    finally:
        engine.close()


def test_cli_json_summary_shape(tmp_path, vault):
    result = subprocess.run(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "d"), "--vault",
         str(vault), "ingest", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("files_seen", "ingested", "unchanged", "skipped", "chunks_added", "chunks_updated",
                "chunks_removed", "seconds"):
        assert key in summary
    assert all(set(item) >= {"path", "reason"} for item in summary["skipped"])


def test_probing_the_lock_never_takes_it(engine):
    """A status poll during an ingestion must not make that ingestion fail."""
    from atocore_tui.locks import is_locked

    with ingest_lock(engine.data_dir):
        assert is_locked(engine.data_dir)
        assert engine.status()["ingesting"]["pid"] > 0
    assert not is_locked(engine.data_dir)
    (engine.data_dir / "ingest.owner").write_text('{"pid": 999999999, "since": "x"}')
    assert not is_locked(engine.data_dir)  # a dead holder's stale owner file reads as free
    assert engine.ingest().summary()["ingested"] > 0


def test_front_matter_alias_resolves_to_the_canonical_project(engine, vault):
    write(vault / "inbox" / "alias-note.md", "---\nproject: ODU\n---\n# Note\n\nSpline backlash.\n")
    engine.ingest()
    assert Document.get(Document.path == "inbox/alias-note.md").project == "orion-drive"


def test_reingest_of_an_unchanged_vault_parses_nothing(engine, vault, monkeypatch):
    """With registered ingest roots, and notes that name their own project (or an
    alias of it) outside any root, unchanged bytes skip parsing entirely."""
    from atocore_tui.ingest import pipeline

    write(vault / "inbox" / "own-project.md", "---\nproject: cp\n---\n# Note\n\nBraze fillet.\n")
    engine.ingest()
    assert Document.get(Document.path == "inbox/own-project.md").project == "coldplate"
    calls = []
    real = pipeline.parse_document
    monkeypatch.setattr(pipeline, "parse_document", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    assert engine.ingest().summary()["ingested"] == 0
    assert calls == []


def test_many_new_notes_in_one_run_keep_their_own_chunks_and_fields(tmp_path, monkeypatch):
    """New notes are written in bulk (one statement per batch, ids looked up
    after); every chunk must still belong to its own note, and the stored
    fields read back as written, across more than one batch."""
    from atocore_tui.ingest import pipeline

    monkeypatch.setattr(pipeline, "BATCH_FILES", 8)
    vault = tmp_path / "v"
    count = 8 * 2 + 3
    for i in range(count):
        write(vault / f"n{i:03d}.md", f"---\ntags: [t{i}, shared]\nproject: p{i % 3}\n---\n"
                                      f"# Note {i}\n\nword{i}x about flanges.\n\n## More\n\nsecond part {i}\n")
    engine = Engine(make_settings(tmp_path / "d", vault))
    try:
        summary = engine.ingest().summary()
        assert summary["ingested"] == count and summary["chunks_added"] == Chunk.select().count()
        for document in Document.select():
            i = int(document.path[1:4])
            assert document.title == f"Note {i}"
            assert sorted(document.tags) == sorted([f"t{i}", "shared"])
            assert document.project == f"p{i % 3}" and document.front_matter_project == f"p{i % 3}"
            assert document.warnings == []
            contents = " ".join(c.content for c in document.chunks)
            assert f"word{i}x" in contents and f"second part {i}" in contents
        assert fts_paths(engine, "word7x") == {"n007.md"}
        assert len(engine.vectors.index) == Chunk.select().count()
        assert engine.status()["index"]["current"]
        # an edit replaces that note's chunks only
        write(vault / "n005.md", "# Note 5\n\nonly this now\n")
        again = engine.ingest().summary()
        assert again["ingested"] == 1 and again["chunks_added"] + again["chunks_updated"] >= 1
        assert fts_paths(engine, "word5x") == set()
        assert fts_paths(engine, "word6x") == {"n006.md"}
        assert len(engine.vectors.index) == Chunk.select().count()
    finally:
        engine.close()


def _fts_segments(engine) -> int:
    """Segments of the chunk index, from FTS5's structure record (id 10): a
    4-byte cookie, then varints nLevel and nSegment (single bytes here)."""
    blob = engine.db.execute_sql("SELECT block FROM chunk_fts_data WHERE id = 10").fetchone()[0]
    assert blob[4] < 128 and blob[5] < 128
    return blob[5]


@pytest.mark.parametrize("threshold, merged", [(10**9, False), (40, True)])
def test_a_bulk_ingest_leaves_the_full_text_index_in_one_segment(tmp_path, monkeypatch, threshold, merged):
    from atocore_tui.ingest import pipeline

    monkeypatch.setattr(pipeline, "BATCH_FILES", 5)  # a commit, and so a segment, every 5 files
    monkeypatch.setattr(pipeline, "OPTIMIZE_AFTER_CHUNKS", threshold)
    vault = tmp_path / "v"
    for i in range(60):
        write(vault / f"n{i:02d}.md", f"# Note {i}\n\nThe seal {i} holds at {i} bar.\n")
    engine = Engine(make_settings(tmp_path / "d", vault))
    try:
        assert engine.ingest().chunks_added == 60
        assert (_fts_segments(engine) == 1) is merged
        assert [h.title for h in engine.query("seal 17 bar", 1)] == ["Note 17"]
        assert integrity_check(engine.db) == "ok"
    finally:
        engine.close()


def test_an_ingestion_writes_with_a_larger_page_cache_and_gives_it_back(engine, vault):
    from atocore_tui.store.db import READ_CACHE_KIB, WRITE_CACHE_KIB

    def cache_kib() -> int:
        return -int(engine.db.execute_sql("PRAGMA cache_size").fetchone()[0])

    seen = []
    assert cache_kib() == READ_CACHE_KIB
    engine.ingest(progress=lambda done, total, name: seen.append(cache_kib()))
    assert seen and set(seen) == {WRITE_CACHE_KIB}
    assert cache_kib() == READ_CACHE_KIB


def test_a_named_pipe_is_skipped_and_a_symlink_inside_the_source_is_read(engine, vault):
    """A FIFO named like a note would block the read forever (nothing writes to
    it); a link to a note inside the vault is read like the note."""
    import os

    os.mkfifo(vault / "personal" / "pipe.md")
    (vault / "personal" / "alias.md").symlink_to(vault / "personal" / "pipe.md")
    target = next(p for p in sorted(vault.rglob("*.md")) if not p.is_symlink() and p.name != "pipe.md"
                  and not any(part.startswith(".") for part in p.relative_to(vault).parts))
    (vault / "personal" / "inside-link.md").symlink_to(target)
    summary = engine.ingest().summary()
    reasons = {s["path"]: s["reason"] for s in summary["skipped"]}
    assert reasons["personal/pipe.md"] == "not a regular file"
    assert reasons["personal/alias.md"] == "not a regular file"
    assert Document.get(Document.path == "personal/inside-link.md").content_hash == \
        Document.get(Document.path == target.relative_to(vault).as_posix()).content_hash


@pytest.mark.parametrize("variable_limit", [None, 999])
def test_chunks_inserted_many_to_a_statement_leave_a_consistent_full_text_index(engine, vault, variable_limit):
    """New chunks go in as multi-row INSERTs (the FTS5 trigger then syncs once a
    statement, not once a chunk); with the variable limit of older SQLite builds (999) a
    statement holds 76 chunks. Either way every chunk is in the index, word for
    word (FTS5's own integrity check compares index and table), and findable."""
    import sqlite3

    from atocore_tui.ingest import pipeline
    from atocore_tui.store.models import Chunk

    for i in range(700):
        write(vault / "bulk" / f"note-{i:04d}.md", f"# Bulk {i}\n\nFlutter margin of strut {i} is zirk{i}.\n")
    if variable_limit:
        engine.db.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variable_limit)
        assert pipeline._variable_limit(engine.db.cursor()) == variable_limit
    summary = engine.ingest().summary()
    assert summary["chunks_added"] == Chunk.select().count() > 700
    engine.db.execute_sql("INSERT INTO chunk_fts(chunk_fts, rank) VALUES ('integrity-check', 1)")
    indexed = engine.db.execute_sql("SELECT count(*) FROM chunk_fts").fetchone()[0]
    assert indexed == Chunk.select().count()
    for i in (0, 499, 500, 699):
        assert engine.query(f"zirk{i}", 1)[0].heading_path == f"Bulk {i}"


def test_chunks_changed_by_an_edit_are_replaced_in_the_index_word_for_word(engine, vault):
    """A re-ingest after 600 notes were edited replaces their chunks (same keys,
    new text) in a few statements: the full-text index holds the new words, not
    the old, and passes FTS5's integrity check."""
    from atocore_tui.store.models import Chunk

    for i in range(600):
        write(vault / "bulk" / f"note-{i:04d}.md", f"# Bulk {i}\n\nThe old strut is oldword{i}.\n")
    engine.ingest()
    keys = {c.key for c in Chunk.select(Chunk.key).where(Chunk.heading_path.startswith("Bulk "))}
    for i in range(600):
        write(vault / "bulk" / f"note-{i:04d}.md", f"# Bulk {i}\n\nThe new strut is newword{i}, stiffer.\n")
    summary = engine.ingest().summary()
    assert summary["chunks_updated"] == 600 and summary["chunks_added"] == 0
    assert {c.key for c in Chunk.select(Chunk.key).where(Chunk.heading_path.startswith("Bulk "))} == keys
    engine.db.execute_sql("INSERT INTO chunk_fts(chunk_fts, rank) VALUES ('integrity-check', 1)")
    for i in (0, 299, 599):
        assert engine.query(f"newword{i}", 1)[0].heading_path == f"Bulk {i}"
    stale = engine.db.execute_sql("SELECT count(*) FROM chunk_fts WHERE chunk_fts MATCH 'oldword0'").fetchone()[0]
    assert stale == 0
