"""A damaged database, doctor, and restore as one critical section (issue 11, items 3, 4)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.ops import doctor
from atocore_tui.ops.backup import Backups
from atocore_tui.store.db import DB_FILENAME, DatabaseDamaged, open_database

from ..conftest import ROOT, make_settings, write

pytestmark = pytest.mark.faults

MODES = ("header", "truncated", "middle", "empty")


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "v"
    for number in range(12):
        write(vault / f"n{number}.md", f"# Note {number}\n\n" + f"paragraph {number} about flanges. " * 40 + "\n")
    return vault


def _damage(db_file: Path, mode: str) -> None:
    size = db_file.stat().st_size
    with db_file.open("r+b") as handle:
        if mode == "header":
            handle.write(b"\x5a" * 100)
        elif mode == "truncated":
            handle.truncate(size // 2)
        elif mode == "middle":
            # garbage over the interior of the document table's pages
            handle.seek(size // 2 - 4096)
            handle.write(b"\xa5" * 8192)
        elif mode == "empty":
            handle.truncate(0)


@pytest.fixture
def backed_up(tmp_path):
    """A data dir with notes, one backup, then one more note (not backed up)."""
    vault = _vault(tmp_path)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    stamp = engine.backups.create()["stamp"]
    engine.close()
    return data, vault, stamp


def cli(*args: str, data: Path, vault: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data)]
    if vault is not None:
        command += ["--vault", str(vault)]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "ATOCORE_CONFIG": os.devnull})


@pytest.mark.parametrize("mode", MODES)
def test_a_damaged_database_is_refused_with_one_line_naming_doctor(backed_up, mode):
    data, vault, _ = backed_up
    _damage(data / DB_FILENAME, mode)
    with pytest.raises(DatabaseDamaged) as caught:
        open_database(data)
    assert "atocore-tui doctor" in str(caught.value) and "\n" not in str(caught.value)
    before = (data / DB_FILENAME).read_bytes()
    result = cli("memory", "add", "knowledge", "a fact", data=data, vault=vault)
    assert result.returncode == 6
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "is damaged" in result.stderr and "doctor" in result.stderr
    assert (data / DB_FILENAME).read_bytes() == before  # nothing written into it


@pytest.mark.parametrize("mode", MODES)
def test_doctor_finds_the_damage_and_restores_the_newest_valid_backup(backed_up, mode):
    data, vault, stamp = backed_up
    _damage(data / DB_FILENAME, mode)
    report = doctor.diagnose(data)
    assert not report["healthy"] and report["database"]["problems"]
    assert report["newest_valid_backup"] == stamp
    result = cli("doctor", "--restore-latest", "--yes", data=data)
    assert result.returncode == 0, result.stderr
    assert list(data.glob(f"{DB_FILENAME}.damaged-*"))  # kept, not deleted
    engine = Engine(make_settings(data, vault))
    try:
        assert engine.status()["documents"] == 12
    finally:
        engine.close()
    assert doctor.diagnose(data)["database"]["ok"]


@pytest.mark.parametrize("mode", ("header", "truncated", "middle"))
def test_backup_restore_works_when_the_live_file_cannot_be_opened(backed_up, mode):
    data, vault, stamp = backed_up
    _damage(data / DB_FILENAME, mode)
    result = cli("backup", "restore", stamp, "--yes", data=data, vault=vault)
    assert result.returncode == 0, result.stderr
    assert cli("status", data=data, vault=vault).returncode == 0


def test_salvage_keeps_every_readable_row_and_gives_a_consistent_store(backed_up):
    data, vault, _ = backed_up
    _damage(data / DB_FILENAME, "middle")
    report = doctor.salvage(data)
    assert report["damaged_file_kept"]
    connection = sqlite3.connect(str(data / DB_FILENAME))
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    connection.close()
    engine = Engine(make_settings(data, vault))
    try:
        engine.ingest()  # re-reads what was lost; the index is rebuilt consistent
        status = engine.status()
        assert status["documents"] == 12 and status["index"]["current"]
    finally:
        engine.close()


def test_doctor_on_a_healthy_data_dir_says_all_well(backed_up):
    data, vault, _ = backed_up
    result = cli("doctor", data=data)
    assert result.returncode == 0 and "all well" in result.stdout


# ------------------------------------------------------------- item 3: restore
def test_a_write_that_arrives_during_a_restore_is_kept_not_overwritten(tmp_path, monkeypatch):
    """A write acknowledged after the pre-restore snapshot and before the copy
    used to be lost; now the restore holds the write lock throughout, so the
    write waits and lands after the restore."""
    vault = _vault(tmp_path)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    stamp = engine.backups.create()["stamp"]
    acknowledged: list[str] = []

    def writer():
        connection = sqlite3.connect(str(data / DB_FILENAME), timeout=30)
        with connection:
            connection.execute("INSERT INTO meta (key, value) VALUES ('during-restore', 'x')")
        acknowledged.append("during-restore")
        connection.close()

    real_create = Backups.create
    threads = []

    def create_then_write(self, *args, **kwargs):
        result = real_create(self, *args, **kwargs)
        if kwargs.get("label") == "pre-restore":
            thread = threading.Thread(target=writer)
            thread.start()
            threads.append(thread)
            time.sleep(0.5)  # room for the write to land if nothing holds it back (not an assertion)
        return result

    monkeypatch.setattr(Backups, "create", create_then_write)
    result = engine.backups.restore(stamp)
    for thread in threads:
        thread.join()
    assert acknowledged == ["during-restore"]
    in_live = sqlite3.connect(str(data / DB_FILENAME)).execute(
        "SELECT count(*) FROM meta WHERE key = 'during-restore'").fetchone()[0]
    pre = data / "backups" / result["pre_restore_backup"] / DB_FILENAME
    in_pre = sqlite3.connect(str(pre)).execute(
        "SELECT count(*) FROM meta WHERE key = 'during-restore'").fetchone()[0]
    assert in_live + in_pre == 1
    engine.close()


def test_restore_gives_a_store_whose_index_is_rebuilt_consistent(tmp_path):
    vault = _vault(tmp_path)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    stamp = engine.backups.create(include_index=True)["stamp"]
    write(vault / "extra.md", "# Extra\n\nextra words about gaskets\n")
    engine.ingest()
    engine.backups.restore(stamp)
    try:
        engine.vectors.ensure()
        status = engine.status()
        assert status["documents"] == 12
        assert status["index"]["current"] and status["index"]["vectors"] == status["chunks"]
        fts = engine.db.execute_sql("SELECT count(*) FROM chunk_fts WHERE chunk_fts MATCH 'flanges'").fetchone()[0]
        assert fts == status["chunks"]
    finally:
        engine.close()


def test_the_server_on_a_damaged_database_says_so_in_one_line(backed_up):
    data, vault, _ = backed_up
    _damage(data / DB_FILENAME, "truncated")
    result = cli("--serve", "--port", "1", data=data, vault=vault)
    assert result.returncode == 6
    assert "Traceback" not in result.stderr and "doctor" in result.stderr


def test_an_unchanged_file_is_not_checked_again_but_a_damaged_one_is(backed_up):
    data, vault, _ = backed_up
    open_database(data).close()  # checks and remembers the file state
    marker = data / f"{DB_FILENAME}.checked"
    assert marker.exists()
    remembered = marker.read_text()
    open_database(data).close()
    assert marker.read_text() == remembered  # nothing written: no new check needed
    _damage(data / DB_FILENAME, "middle")
    with pytest.raises(DatabaseDamaged):
        open_database(data)


def test_a_write_that_waits_out_the_busy_timeout_gets_one_line_and_exit_code_4(backed_up, monkeypatch):
    """A restore (or any long write) holding the write lock past the busy
    timeout: the waiting command is refused as busy, not with a traceback."""
    import atocore_tui.store.db as db_module

    data, vault, _ = backed_up
    holder = sqlite3.connect(str(data / DB_FILENAME), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
        monkeypatch.setitem(db_module.PRAGMAS, "busy_timeout", 200)
        from atocore_tui.cli import main

        code = main(["--data-dir", str(data), "--vault", str(vault), "memory", "add", "knowledge", "a fact"])
        assert code == 4
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_http_write_that_waits_out_the_busy_timeout_answers_409(backed_up, monkeypatch):
    import httpx

    import atocore_tui.store.db as db_module
    from atocore_tui.server.app import create_app
    from atocore_tui.server.background import ServerThread

    data, vault, _ = backed_up
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setitem(db_module.PRAGMAS, "busy_timeout", 200)
    engine = Engine(make_settings(data, vault))
    try:
        with ServerThread(create_app(engine)) as server, httpx.Client(base_url=server.url) as http:
            assert http.get("/health").status_code == 200
            holder = sqlite3.connect(str(data / DB_FILENAME), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            try:
                answer = http.post("/memory", json={"memory_type": "knowledge", "content": "held back"})
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert answer.status_code == 409 and "try again" in answer.json()["detail"]
            assert http.post("/memory", json={"memory_type": "knowledge", "content": "after"}).status_code == 200
    finally:
        engine.close()


def test_restoring_a_backup_whose_index_lagged_its_store_rebuilds_the_index(tmp_path):
    """A backup taken mid-ingestion holds an index older than its chunks; after
    the restore the index must be rebuilt, not trusted (issue 11, item 2)."""
    vault = _vault(tmp_path)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    index_dir = data / "index"
    older = {p.name: p.read_bytes() for p in index_dir.iterdir()}
    write(vault / "late.md", "# Late\n\nlate words about gaskets\n")
    engine.ingest()
    for name in ("chunks.usearch", "chunks.json"):  # as if the ingestion had not saved its index yet
        (index_dir / name).write_bytes(older[name])
    engine.vectors.reset()
    stamp = engine.backups.create(include_index=True)["stamp"]
    engine.backups.restore(stamp)
    try:
        write(vault / "later.md", "# Later\n\nlater words about bolts\n")
        engine.ingest()  # the next ingestion must not adopt the lagging index
        status = engine.status()
        assert status["documents"] == 14
        assert status["index"]["current"] and status["index"]["vectors"] == status["chunks"]
    finally:
        engine.close()
