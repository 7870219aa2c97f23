"""The semantic pass from the CLI: foreground, detached after an ingest, status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from atocore_tui.cli import main

from .conftest import ROOT, write


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atocore_tui.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def _vault(tmp_path):
    vault = tmp_path / "v"
    write(vault / "a.md", "# Pump seal\n\nThe pump seal is FKM.\n")
    write(vault / "b.md", "# Motor\n\nThe motor has a thermistor in its windings.\n")
    return vault


def test_index_semantic_computes_what_is_missing_and_status_shows_it(tmp_path, capsys):
    vault, data = _vault(tmp_path), tmp_path / "data"
    base = ["--data-dir", str(data), "--vault", str(vault)]
    assert main([*base, "ingest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic_pass_pid"] is None  # off in tests
    assert main([*base, "status"]) == 0
    assert "semantic  0 of 2 chunks" in capsys.readouterr().out
    assert main([*base, "index", "semantic", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["encoded"] == 2 and summary["complete"]
    assert main([*base, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic"]["covered"] == 2


def test_a_cli_ingest_leaves_a_detached_pass_that_finishes(tmp_path):
    vault, data = _vault(tmp_path), tmp_path / "data"
    base = ["--data-dir", str(data), "--vault", str(vault)]
    done = _cli(*base, "ingest", "--json", env={"ATOCORE_RETRIEVAL_SEMANTIC_BACKGROUND": "true"})
    assert done.returncode == 0, done.stderr
    pid = json.loads(done.stdout)["semantic_pass_pid"]
    assert isinstance(pid, int)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = json.loads(_cli(*base, "status", "--json").stdout)["semantic"]
        if state["complete"]:
            break
        time.sleep(1)
    assert state["covered"] == state["total"] == 2, state


def test_index_semantic_says_when_it_is_off(tmp_path, capsys):
    vault, data = _vault(tmp_path), tmp_path / "data"
    config = tmp_path / "c.yaml"
    config.write_text("retrieval:\n  semantic: false\n")
    assert main(["--config", str(config), "--data-dir", str(data), "--vault", str(vault), "index", "semantic"]) == 0
    assert "off" in capsys.readouterr().out
