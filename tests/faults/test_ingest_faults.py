"""Ingestion under faults: odd file names, crashed writers, stale indexes (issue 11, items 1-2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from atocore_tui.engine import Engine
from atocore_tui.search.vectors import chunks_version
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
