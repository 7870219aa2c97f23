"""A read-only data directory and a full disk (issue 11, items 10, 11).

Both use real file systems: a read-only bind mount and a small tmpfs (this
needs root, as in the project's container; elsewhere the tests skip). A
chmod'ed folder would not do: root writes through it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atocore_tui.engine import Engine

from ..conftest import ROOT, make_settings, write

pytestmark = pytest.mark.faults


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _cli(data: Path, vault: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data),
                           "--vault", str(vault), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "ATOCORE_CONFIG": os.devnull})


def _vault(root: Path, notes: int) -> Path:
    vault = root / "v"
    for number in range(notes):
        write(vault / f"n{number:03}.md", f"# Note {number}\n\n" + f"flange gearbox bearing {number}. " * 60)
    return vault


@pytest.fixture
def read_only(tmp_path):
    """A data dir with notes, seen through a read-only bind mount."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    vault = _vault(tmp_path, 10)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    engine.close()
    view = tmp_path / "ro"
    view.mkdir()
    if not _mount("--bind", str(data), str(view)):
        pytest.skip("mount is not permitted here")
    try:
        if not _mount("-o", "remount,bind,ro", str(view)):
            pytest.skip("a read-only remount is not permitted here")
        yield view, vault
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


@pytest.mark.parametrize("args", [["status"], ["query", "flange"], ["memory", "list"], ["backup", "list"],
                                  ["context", "flange"], ["doctor"]])
def test_read_only_commands_work_on_a_read_only_data_dir(read_only, args):
    data, vault = read_only
    result = _cli(data, vault, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_a_query_on_a_read_only_data_dir_with_a_stale_index_builds_it_in_memory(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    vault = _vault(tmp_path, 10)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    engine.close()
    sidecar = data / "index" / "chunks.json"
    meta = json.loads(sidecar.read_text())
    meta["version"] -= 1  # the store moved on since the index was saved
    sidecar.write_text(json.dumps(meta), encoding="utf-8")
    view = tmp_path / "ro"
    view.mkdir()
    if not (_mount("--bind", str(data), str(view)) and _mount("-o", "remount,bind,ro", str(view))):
        pytest.skip("mount is not permitted here")
    try:
        engine = Engine(make_settings(view, vault))
        try:
            assert engine.vectors.ensure() is not None  # rebuilt (in memory)
            assert len(engine.vectors.index) == engine.status()["chunks"]
            assert engine.query("flange gearbox")
        finally:
            engine.close()
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


@pytest.mark.parametrize("args", [["memory", "add", "knowledge", "a fact"], ["ingest"], ["backup", "create"]])
def test_writing_commands_on_a_read_only_data_dir_give_one_line(read_only, args):
    data, vault = read_only
    result = _cli(data, vault, *args)
    assert result.returncode == 6
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "read-only" in result.stderr.lower() or "readonly" in result.stderr.lower()


def test_the_server_starts_on_a_read_only_data_dir_and_refuses_writes_with_a_reason(read_only):
    import httpx

    from atocore_tui.server.app import create_app
    from atocore_tui.server.background import ServerThread

    data, vault = read_only
    engine = Engine(make_settings(data, vault))
    try:
        with ServerThread(create_app(engine)) as server, httpx.Client(base_url=server.url) as http:
            assert http.get("/health").status_code == 200
            assert http.post("/query", json={"prompt": "flange"}).status_code == 200
            answer = http.post("/memory", json={"memory_type": "knowledge", "content": "x"})
            assert answer.status_code == 503 and "read-only" in answer.json()["detail"].lower()
    finally:
        engine.close()


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)):
        pytest.skip("mount is not permitted here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_gives_one_line_leaves_no_orphans_and_the_index_is_consistent_after(tmp_path, small_disk):
    notes = 2000  # a store of well over 6 MB, whatever the chunking and index layout
    vault = _vault(tmp_path, notes)
    data = small_disk / "data"
    result = _cli(data, vault, "ingest")
    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr and "disk is full" in result.stderr
    leftovers = [p.name for p in (data / "index").iterdir() if ".tmp" in p.name] if (data / "index").exists() else []
    assert leftovers == []
    assert _mount("-o", "remount,size=64m", str(small_disk))  # space freed
    again = _cli(data, vault, "ingest")
    assert again.returncode == 0, again.stderr
    engine = Engine(make_settings(data, vault))
    try:
        status = engine.status()
        assert status["documents"] == notes
        assert status["index"]["current"] and status["index"]["vectors"] == status["chunks"]
        assert engine.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        engine.close()


def test_the_server_on_a_full_disk_answers_503_with_the_reason_and_no_traceback(tmp_path, small_disk):
    import httpx

    from atocore_tui.server.app import create_app
    from atocore_tui.server.background import ServerThread

    vault = _vault(tmp_path, 5)
    data = small_disk / "data"
    engine = Engine(make_settings(data, vault))
    try:
        engine.ingest()
        filler = small_disk / "filler"
        with filler.open("wb") as handle:  # take every byte that is left
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        with ServerThread(create_app(engine)) as server, httpx.Client(base_url=server.url) as http:
            answers = [http.post("/memory", json={"memory_type": "knowledge", "content": f"fact {n} " * 400})
                       for n in range(20)]
        refused = [a for a in answers if a.status_code != 200]
        assert refused and all(a.status_code == 503 for a in refused)
        assert "disk is full" in refused[0].json()["detail"]
        filler.unlink()
        from atocore_tui.store.models import Memory

        stored = {m.id for m in Memory.select(Memory.id)}
        assert engine.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert {a.json()["id"] for a in answers if a.status_code == 200} <= stored
    finally:
        engine.close()


def test_a_killed_writers_temporary_index_file_is_swept_at_the_next_save(tmp_path):
    vault = _vault(tmp_path, 3)
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    try:
        engine.ingest()
        orphan = data / "index" / "chunks.usearch.tmp999999999"
        orphan.write_bytes(b"half an index")
        engine.vectors.save()
        assert not orphan.exists()
    finally:
        engine.close()


def test_a_failed_commit_is_reported_by_its_cause_not_the_rollback_that_followed():
    import sqlite3

    import peewee

    from atocore_tui.store.db import DiskFull, storage_error

    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.Error:
            try:
                raise sqlite3.OperationalError("cannot rollback - no transaction is active")
            except sqlite3.Error as inner:
                raise peewee.OperationalError(inner, *inner.args) from inner
    except peewee.OperationalError as error:
        assert isinstance(storage_error(error), DiskFull)
