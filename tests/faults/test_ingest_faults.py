"""Ingestion under faults: odd file names, crashed writers, stale indexes (issue 11, items 1-2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.store import Chunk

from ..conftest import ROOT, make_settings, write

pytestmark = pytest.mark.faults

LATIN1_NAME = os.fsdecode(b"m\xe9moire.md")
"""A file name whose bytes are not UTF-8 (as os.walk hands it over)."""


def _odd_vault(tmp_path: Path) -> Path:
    vault = tmp_path / "v"
    write(vault / "a.md", "# Alpha\n\nalpha text about flanges\n")
    write(vault / "z.md", "# Zulu\n\nzulu text about gaskets\n")
    with open(os.fsencode(vault) + b"/m\xe9moire.md", "wb") as handle:
        handle.write(b"# Memoire\n\nnotes\n")
    return vault


def test_a_non_utf8_file_name_is_skipped_with_its_reason_and_the_run_goes_on(tmp_path):
    vault = _odd_vault(tmp_path)
    engine = Engine(make_settings(tmp_path / "data", vault))
    try:
        summary = engine.ingest().summary()
        assert summary["ingested"] == 2  # a.md and z.md, either side of the odd one
        skipped = {item["path"]: item["reason"] for item in summary["skipped"]}
        assert skipped == {"m\\xe9moire.md": "file name is not valid UTF-8; rename the file to ingest it"}
        json.dumps(summary, ensure_ascii=False).encode("utf-8")  # printable as JSON
    finally:
        engine.close()


def test_cli_ingest_with_a_non_utf8_file_name_reports_it_without_a_traceback(tmp_path):
    vault = _odd_vault(tmp_path)
    result = subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "d"),
                             "--vault", str(vault), "ingest", "--json"],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "ATOCORE_CONFIG": os.devnull})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "m\\\\xe9moire.md" in result.stdout


def _index_files(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "index"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("chunks.")}


def _put_back(data_dir: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (data_dir / "index" / name).write_bytes(data)


def test_an_ingestion_after_a_crashed_writer_rebuilds_the_stale_index_instead_of_marking_it_current(tmp_path):
    """A writer that committed chunks and died before saving the index leaves
    an older index on disk; the next ingestion must not adopt it as current."""
    vault = tmp_path / "v"
    write(vault / "a.md", "# Alpha\n\nalpha text about flanges\n")
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    saved = _index_files(data)
    write(vault / "b.md", "# Bravo\n\nbravo text about gaskets\n")
    engine.ingest()
    engine.close()
    _put_back(data, saved)  # the crash: b.md's chunks committed, its vectors never saved

    engine = Engine(make_settings(data, vault))
    try:
        write(vault / "c.md", "# Charlie\n\ncharlie text about bolts\n")
        engine.ingest()
        keys = [c.key for c in Chunk.select(Chunk.key)]
        assert len(engine.vectors.index) == len(keys)
        assert set(engine.vectors.vectors_of(keys)) == set(keys)
        status = engine.status()["index"]
        assert status["current"] and status["vectors"] == len(keys)
    finally:
        engine.close()


def test_an_index_whose_count_disagrees_with_the_store_is_not_trusted(tmp_path):
    """A sidecar naming the current version but fewer vectors than chunks (a
    save of a stale index under a new version) is rebuilt on load."""
    vault = tmp_path / "v"
    write(vault / "a.md", "# Alpha\n\nalpha text about flanges\n")
    write(vault / "b.md", "# Bravo\n\nbravo text about gaskets\n")
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    keys = [c.key for c in Chunk.select(Chunk.key)]
    engine.vectors.index.remove(keys[:1])
    engine.vectors.save()  # one vector short, saved as current
    engine.close()

    engine = Engine(make_settings(data, vault))
    try:
        assert engine.status()["index"]["current"] is False
        reason = engine.vectors.ensure()
        assert reason and "vectors" in reason
        assert len(engine.vectors.index) == len(keys)
    finally:
        engine.close()
