"""Backups: create, list, validate, restore — against real temporary data dirs,
including a backup taken while another process ingests."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atocore_tui.cli import main
from atocore_tui.engine import Engine
from atocore_tui.errors import Busy, NotFound, ValidationError
from atocore_tui.locks import ingest_lock, is_locked
from atocore_tui.ops.backup_files import table_counts
from atocore_tui.store import Interaction, Memory, integrity_check

from .conftest import ROOT, make_settings, write


@pytest.fixture
def ingested(engine):
    engine.ingest()
    return engine


def live_counts(engine) -> dict[str, int]:
    return table_counts(engine.db.connection())


def backup_folders(engine) -> list[str]:
    root = engine.data_dir / "backups"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def failed(result: dict) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in result["checks"] if not c["ok"]}


def rewrite_metadata(folder: Path, change) -> None:
    meta = json.loads((folder / "backup.json").read_text())
    change(meta)
    (folder / "backup.json").write_text(json.dumps(meta))


# ------------------------------------------------------------------ create
def test_create_list_validate(ingested):
    counts = live_counts(ingested)
    meta = ingested.backups.create(label="before the trip")

    folder = Path(meta["path"])
    assert folder == ingested.data_dir / "backups" / meta["stamp"]
    assert meta["counts"] == counts and counts["chunk"] > 0 and counts["chunk_fts"] == counts["chunk"]
    assert meta["label"] == "before the trip" and meta["include_index"] is False
    assert meta["schema_version"] >= 1 and meta["app_version"]
    assert set(meta["files"]) == {"atocore.db"}
    assert meta["files"]["atocore.db"]["bytes"] == (folder / "atocore.db").stat().st_size
    assert len(meta["files"]["atocore.db"]["sha256"]) == 64
    # one self-contained file: no WAL beside it, no partial folder left behind
    assert sorted(p.name for p in folder.iterdir()) == ["atocore.db", "backup.json"]
    assert backup_folders(ingested) == [meta["stamp"]]

    listed = ingested.backups.entries()
    assert [b["stamp"] for b in listed] == [meta["stamp"]]
    assert listed[0]["valid"] is True and listed[0]["counts"] == counts

    result = ingested.backups.validate(meta["stamp"])
    assert result["valid"] is True, failed(result)
    names = {c["name"] for c in result["checks"]}
    assert {"metadata", "file atocore.db", "integrity_check", "tables", "fts"} <= names
    assert backup_folders(ingested) == [meta["stamp"]]  # validating writes nothing


def test_backups_in_one_second_get_unique_stamps_newest_first(ingested):
    stamps = [ingested.backups.create()["stamp"] for _ in range(3)]
    assert len(set(stamps)) == 3
    assert [b["stamp"] for b in ingested.backups.entries()] == stamps[::-1]


def test_bad_label_writes_nothing(ingested):
    with pytest.raises(ValidationError):
        ingested.backups.create(label="two\nlines")
    assert backup_folders(ingested) == []


def test_a_folder_without_metadata_is_listed_as_invalid(ingested):
    good = ingested.backups.create()["stamp"]
    (ingested.data_dir / "backups" / "20000101T000000Z").mkdir()
    listed = {b["stamp"]: b for b in ingested.backups.entries()}
    assert listed[good]["valid"] is True
    assert listed["20000101T000000Z"]["valid"] is False
    assert "backup.json is missing" in listed["20000101T000000Z"]["reason"]
    result = ingested.backups.validate("20000101T000000Z")
    assert result["valid"] is False and "metadata" in failed(result)


# ---------------------------------------------------------------- tampering
def test_flipped_byte_fails_validation_and_restore_refuses(ingested):
    meta = ingested.backups.create()
    db_file = Path(meta["path"]) / "atocore.db"
    data = bytearray(db_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    db_file.write_bytes(bytes(data))

    result = ingested.backups.validate(meta["stamp"])
    assert result["valid"] is False
    assert failed(result)["file atocore.db"] == "sha256 differs from the metadata"

    counts = live_counts(ingested)
    with pytest.raises(ValidationError, match="does not validate"):
        ingested.backups.restore(meta["stamp"])
    assert live_counts(ingested) == counts
    assert backup_folders(ingested) == [meta["stamp"]]  # no pre-restore backup either


def test_wrong_counts_in_metadata_fail_the_tables_check(ingested):
    meta = ingested.backups.create()
    rewrite_metadata(Path(meta["path"]), lambda m: m["counts"].update(chunk=m["counts"]["chunk"] + 1))
    result = ingested.backups.validate(meta["stamp"])
    assert result["valid"] is False
    assert list(failed(result)) == ["tables"]
    assert "chunk:" in failed(result)["tables"]
    with pytest.raises(ValidationError):
        ingested.backups.restore(meta["stamp"])


def test_bad_stamp_is_a_validation_error(ingested):
    ingested.backups.create()
    before, counts = backup_folders(ingested), live_counts(ingested)
    for stamp in ("../x", "20240101T000000Z/../..", "", "latest", None, "20240101T000000Z-0"):
        for action in (ingested.backups.validate, ingested.backups.restore):
            with pytest.raises(ValidationError, match="invalid backup stamp"):
                action(stamp)
    assert backup_folders(ingested) == before and live_counts(ingested) == counts


def test_unknown_stamp_is_not_found(ingested):
    for action in (ingested.backups.validate, ingested.backups.restore):
        with pytest.raises(NotFound):
            action("20000101T000000Z")
    assert backup_folders(ingested) == []


# ------------------------------------------------------------------ restore
def test_restore_waits_for_no_ingestion(ingested):
    saved = ingested.backups.create()
    counts = live_counts(ingested)
    with ingest_lock(ingested.data_dir, purpose="ingestion"):
        with pytest.raises(Busy):
            ingested.backups.restore(saved["stamp"])
    assert live_counts(ingested) == counts and backup_folders(ingested) == [saved["stamp"]]


def test_restore_round_trip(ingested, vault):
    saved = ingested.backups.create()
    write(vault / "extra.md", "# Extra\n\nA note about the cryocooler vibration budget, added later.\n")
    ingested.ingest()
    Memory.create(memory_type="knowledge", content="Invar keeps its shape in the cold.")
    Interaction.create(prompt="what changed?", response="the cryocooler")
    changed = live_counts(ingested)
    assert changed != saved["counts"]
    assert ingested.query("cryocooler vibration budget")[0].source_file.endswith("extra.md")

    result = ingested.backups.restore(saved["stamp"])

    assert result["restored"] == saved["stamp"]
    assert result["counts"] == saved["counts"] == live_counts(ingested)
    assert integrity_check(ingested.db) == "ok"
    assert ingested.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert Memory.select().count() == 0  # the models still talk to the (restored) live db
    # the index was not in the backup: the live one was dropped and is rebuilt on use
    hits = ingested.query("cryocooler vibration budget")
    assert hits and not any(h.source_file.endswith("extra.md") for h in hits)
    assert ingested.vectors.last_rebuild is not None
    assert len(ingested.vectors.index) == saved["counts"]["chunk"]

    pre = {b["stamp"]: b for b in ingested.backups.entries()}[result["pre_restore_backup"]]
    assert pre["label"] == "pre-restore" and pre["counts"] == changed
    assert ingested.backups.validate(pre["stamp"])["valid"] is True


def test_index_backup_validates_and_restores_the_index(ingested):
    ingested.query("thermal")  # the index is current and saved
    saved = ingested.backups.create(include_index=True)
    assert set(saved["files"]) == {"atocore.db", "index/chunks.usearch", "index/chunks.json"}
    result = ingested.backups.validate(saved["stamp"])
    assert result["valid"] is True, failed(result)
    index_check = next(c for c in result["checks"] if c["name"] == "index")
    assert index_check["detail"] == f"index loads with {saved['counts']['chunk']} vectors"

    restored = ingested.backups.restore(saved["stamp"])
    assert restored["counts"] == saved["counts"]
    ingested.vectors.last_rebuild = None
    assert ingested.query("thermal")
    assert ingested.vectors.last_rebuild is None  # the restored index was loaded, not rebuilt
    live_index = ingested.vectors.index.path
    assert live_index.read_bytes() == (Path(saved["path"]) / "index" / "chunks.usearch").read_bytes()


def test_index_check_catches_a_sidecar_that_disagrees(ingested):
    ingested.query("thermal")
    saved = ingested.backups.create(include_index=True)
    folder = Path(saved["path"])
    sidecar = folder / "index" / "chunks.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "count": 1}))
    # keep the checksums right so that only the index check can notice
    from atocore_tui.ops.backup_files import _sha256

    rewrite_metadata(folder, lambda m: m["files"]["index/chunks.json"].update(sha256=_sha256(sidecar)))
    result = ingested.backups.validate(saved["stamp"])
    assert list(failed(result)) == ["index"]
    assert "sidecar says 1" in failed(result)["index"]


# ---------------------------------------------------------------------- CLI
def test_cli_backup_commands(tmp_path, capsys):
    base = ["--data-dir", str(tmp_path / "data"), "--vault", str(ROOT / "sample_vault")]
    assert main([*base, "ingest", "--json"]) == 0
    capsys.readouterr()
    assert main([*base, "backup", "create", "--label", "cli", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["label"] == "cli"
    assert main([*base, "backup", "list", "--json"]) == 0
    assert [b["stamp"] for b in json.loads(capsys.readouterr().out)["backups"]] == [created["stamp"]]
    assert main([*base, "backup", "validate", created["stamp"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert main([*base, "backup", "restore", created["stamp"]]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main([*base, "backup", "restore", created["stamp"], "--yes", "--json"]) == 0
    restored = json.loads(capsys.readouterr().out)
    assert restored["counts"] == created["counts"]
    assert main([*base, "backup", "validate", "../x"]) == 2
    assert main([*base, "backup", "validate", "20000101T000000Z"]) == 3


# --------------------------------------------------------------- acceptance
WORDS = ("thermal bracket titanium load requirement margin analysis vendor bolt flange shim orbit "
         "radiator panel heater sensor harness cable connector epoxy cure torque fatigue stress "
         "strain vibration mode frequency damping").split()


def generated_vault(folder: Path, notes: int) -> Path:
    rng = random.Random(7)
    for i in range(notes):
        sections = "".join(f"\n## Section {s}\n\n" + " ".join(rng.choice(WORDS) for _ in range(70)) + "\n"
                           for s in range(4))
        write(folder / f"area{i % 10}" / f"note{i}.md",
              f"---\ntitle: Note {i}\ntags: [generated]\n---\n# Note {i}\n{sections}")
    return folder


def test_backup_during_ingestion_validates_and_restores(tmp_path):
    """ACCEPTANCE: a backup taken while an ingestion is running validates and
    restores to a database that passes PRAGMA integrity_check, with identical
    row counts."""
    vault = generated_vault(tmp_path / "vault", 300)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    env = {**os.environ, "ATOCORE_INGEST_LOCK_TIMEOUT": "30"}  # our lock probes must not refuse it
    ingestion = subprocess.Popen(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
         "ingest", "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    taken: list[tuple[dict, bool]] = []
    try:
        while ingestion.poll() is None:
            running_before = is_locked(data)
            meta = engine.backups.create()
            taken.append((meta, running_before and is_locked(data)))
            time.sleep(0.05)
        out, err = ingestion.communicate(timeout=60)
        assert ingestion.returncode == 0, err
        final = engine.backups.create()
        final_live = live_counts(engine)
    finally:
        if ingestion.poll() is None:
            ingestion.kill()
        engine.close()

    assert json.loads(out)["ingested"] == 300
    mid_run = [meta for meta, running in taken if running]
    assert mid_run, f"no backup was taken while the ingestion ran ({len(taken)} taken)"
    assert final["counts"] == final_live and final["counts"]["document"] == 300
    partial = [m for m in mid_run if 0 < m["counts"]["document"] < 300]

    engine = Engine(make_settings(data, vault))
    try:
        for meta, _ in taken:
            result = engine.backups.validate(meta["stamp"])
            assert result["valid"] is True, (meta["stamp"], failed(result))
            with sqlite3.connect(Path(meta["path"], "atocore.db")) as copy:
                assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        engine.close()

    chosen = (partial or mid_run)[len(partial or mid_run) // 2]
    fresh = tmp_path / "fresh"
    shutil.copytree(chosen["path"], fresh / "backups" / chosen["stamp"])
    engine = Engine(make_settings(fresh, vault))
    try:
        restored = engine.backups.restore(chosen["stamp"])
        assert integrity_check(engine.db) == "ok"

        def data(counts: dict) -> dict:
            # restore moves the store's chunk version on (so every index is
            # checked again), which adds that meta row to a backup taken
            # before the ingestion's first commit
            return {table: n for table, n in counts.items() if table != "meta"}

        assert data(restored["counts"]) == data(chosen["counts"]) == data(live_counts(engine))
    finally:
        engine.close()
    engine = Engine(make_settings(fresh, vault))  # and it persists across a reopen
    try:
        assert integrity_check(engine.db) == "ok" and data(live_counts(engine)) == data(chosen["counts"])
    finally:
        engine.close()
    print(f"\n{len(taken)} backups during ingestion, {len(mid_run)} mid-run, "
          f"{len(partial)} with a partial store; restored {chosen['counts']['document']} documents")
