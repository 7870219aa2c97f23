"""The server as a process: ``atocore-tui --serve`` started for real, its
imports, its refusal to bind other addresses, and a kill -9 in the middle of
an ingestion."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from atocore_tui.engine import Engine
from atocore_tui.server import check_bind, is_loopback
from atocore_tui.server.background import free_port
from atocore_tui.store import DB_FILENAME

from .conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "ATOCORE_API_TOKEN": "", "PYTHONPATH": str(ROOT)}


def get(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def start_server(data: Path, vault: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
         "--serve", "--port", str(port), *extra],
        cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        try:
            get(url + "/health", 1)
            return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("server did not start")


def make_vault(root: Path, notes: int) -> Path:
    """Notes with several sections each, so that an ingestion takes a while."""
    vault = root / "vault"
    for n in range(notes):
        folder = vault / f"area-{n % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        sections = "\n\n".join(
            f"## Section {s}\n\n" + " ".join(f"Item {n}-{s}-{w} concerns bearing preload {w * 7 % 97} N "
                                             f"and seal leak rate {w * 3 % 41} mbar·l/s." for w in range(12))
            for s in range(6))
        (folder / f"note-{n:04d}.md").write_text(f"# Note {n}\n\n{sections}\n", encoding="utf-8")
    return vault


def test_serving_does_not_import_textual():
    """Every module of the server and the CLI, found by walking the packages."""
    code = textwrap.dedent("""\
        import importlib, pkgutil, sys
        import atocore_tui.cli, atocore_tui.server
        names = [m.name for package in (atocore_tui.cli, atocore_tui.server)
                 for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                 if not m.name.endswith("__main__")]
        assert "atocore_tui.server.mcp_server" in names and "atocore_tui.server.app" in names, names
        for name in names:
            importlib.import_module(name)
        from atocore_tui.cli import build_parser; build_parser()
        from atocore_tui.server.app import create_app; create_app(object())
        bad = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
        print(bad); sys.exit(1 if bad else 0)
        """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_loopback_unless_allowed(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    assert check_bind("127.0.0.1", False) is None
    from atocore_tui.errors import ValidationError

    with pytest.raises(ValidationError, match="--allow-remote"):
        check_bind("0.0.0.0", False)
    assert "warning" in check_bind("0.0.0.0", True)
    result = subprocess.run(
        [sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(tmp_path / "d"), "--serve", "--host",
         "0.0.0.0", "--port", str(free_port())], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--allow-remote" in result.stderr


def test_kill_9_during_ingestion_leaves_a_sound_data_dir(tmp_path):
    vault = make_vault(tmp_path, 500)
    data = tmp_path / "data"
    process, url = start_server(data, vault)
    answered: list = []

    def ingest():
        request = urllib.request.Request(url + "/ingest/sources", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                answered.append(answer.status)
        except (OSError, urllib.error.URLError) as error:
            answered.append(error)

    client = threading.Thread(target=ingest, daemon=True)
    client.start()
    try:
        deadline, health = time.monotonic() + 60, {}
        while time.monotonic() < deadline and not (health.get("ingesting") and health.get("documents")):
            health = get(url + "/health")  # kill once some batches are committed, others not
            time.sleep(0.01)
        assert health.get("ingesting"), "the ingestion never showed as running"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()
        process.stderr.close()
    client.join(30)
    assert answered and not isinstance(answered[0], int), "the ingestion finished before the kill"

    with sqlite3.connect(data / DB_FILENAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        docs_after_kill = db.execute("SELECT count(*) FROM document").fetchone()[0]
    assert 0 < docs_after_kill < 500, docs_after_kill

    engine = Engine(make_settings(data, vault))
    try:
        hits = engine.query("bearing preload seal leak rate", 5)
        assert hits  # the index is reused or rebuilt from what the database holds
        status = engine.status()
        assert status["index"]["current"] and status["index"]["vectors"] == status["chunks"]
        report = engine.ingest()
        assert report.summary()["skipped"] == []
        status = engine.status()
        assert status["documents"] == 500
        assert status["index"]["vectors"] == status["chunks"] and status["index"]["current"]
        assert engine.query("Item 499-5-11 bearing preload", 3)[0].source_file.endswith("note-0499.md")
    finally:
        engine.close()

    process, url = start_server(data, vault)  # and the next server start serves it
    try:
        health = get(url + "/health")
        assert health["documents"] == 500 and health["index_current"] and health["ingesting"] is None
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
        process.stderr.close()
