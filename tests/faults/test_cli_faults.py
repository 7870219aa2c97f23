"""Settings, commands and pipes under faults (issue 11, items 8 retention, 9, 12, 13)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from atocore_tui.cli import main
from atocore_tui.config import load_settings
from atocore_tui.engine import Engine
from atocore_tui.errors import ConfigError

from ..conftest import ROOT, make_settings, write

pytestmark = pytest.mark.faults


def _cli(*args: str, stdout=subprocess.PIPE, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "atocore_tui.cli", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT,
                          env={**os.environ, "ATOCORE_CONFIG": os.devnull, **(env or {})})


@pytest.fixture
def small(tmp_path):
    vault = tmp_path / "v"
    for number in range(30):
        write(vault / f"n{number}.md", f"# Note {number}\n\nflange gearbox text {number}\n")
    data = tmp_path / "data"
    engine = Engine(make_settings(data, vault))
    engine.ingest()
    engine.close()
    return data, vault


# ------------------------------------------------------------------ item 9
@pytest.mark.parametrize("value", [".nan", "nan", "inf", "-.inf"])
def test_a_lock_timeout_that_is_not_a_finite_number_is_a_config_error(tmp_path, value):
    config = tmp_path / "config.yaml"
    config.write_text(f"ingest:\n  lock_timeout: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="finite"):
        load_settings(config_path=config, env={})
    with pytest.raises(ConfigError, match="finite"):
        load_settings(env={"ATOCORE_INGEST_LOCK_TIMEOUT": value.replace(".", "")})


def test_index_rebuild_takes_json_like_every_command(small, capsys):
    data, vault = small
    assert main(["--data-dir", str(data), "--vault", str(vault), "index", "rebuild", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["vectors"] == 30 and printed["index"]["current"] is True


@pytest.mark.parametrize("args", [["query", "flange", "--json", "--top-k", "20"], ["status", "--json"],
                                  ["memory", "list", "--json"]])
def test_a_closed_pipe_ends_the_command_quietly(small, args):
    data, vault = small
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) is gone before we write
    try:
        result = _cli("--data-dir", str(data), "--vault", str(vault), *args, stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == 141


def test_an_index_path_that_is_a_directory_gives_one_line(small):
    data, vault = small
    index = data / "index" / "chunks.usearch"
    index.unlink()
    index.mkdir()
    result = _cli("--data-dir", str(data), "--vault", str(vault), "index", "rebuild")
    assert result.returncode == 6
    assert "Traceback" not in result.stderr and "is a directory" in result.stderr.lower()
    assert "move it aside" in result.stderr
    assert sorted(p.name for p in (data / "index").iterdir()) == ["chunks.json", "chunks.usearch"]


def test_cli_arguments_that_are_not_utf8_are_refused_and_write_nothing(small):
    data, vault = small
    code = main(["--data-dir", str(data), "--vault", str(vault), "memory", "add", "knowledge",
                 os.fsdecode(b"caf\xe9")])
    assert code == 2
    result = _cli("--data-dir", str(data), "--vault", str(vault), "memory", "list", "--json")
    assert json.loads(result.stdout)["memories"] == []


# ----------------------------------------------------------------- item 12
def test_interrupted_backups_are_swept_when_an_engine_starts(small):
    data, vault = small
    backups = data / "backups"
    dead = backups / ".partial-999999999-0123abcd"  # a pid that cannot be running
    dead.mkdir(parents=True)
    (dead / "atocore.db").write_bytes(b"x" * 1000)
    ours = backups / f".partial-{os.getpid()}-feedbeef"  # in progress in a live process
    ours.mkdir()
    engine = Engine(make_settings(data, vault))
    engine.close()
    assert not dead.exists() and ours.exists()


# -------------------------------------------------------------- item 8, 13
def test_backups_beyond_the_retention_setting_are_pruned_oldest_first(small):
    data, vault = small
    engine = Engine(make_settings(data, vault, **{"backup.keep": 2}))
    try:
        stamps = [engine.backups.create()["stamp"] for _ in range(4)]
        assert [b["stamp"] for b in engine.backups.entries()] == stamps[:1:-1]
    finally:
        engine.close()


def test_synchronous_full_is_a_setting(small):
    data, vault = small
    engine = Engine(make_settings(data, vault, **{"database.synchronous": "full"}))
    try:
        assert engine.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        engine.close()
    engine = Engine(make_settings(data, vault))
    try:
        assert engine.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, the default
    finally:
        engine.close()
    with pytest.raises(ConfigError):
        make_settings(data, vault, **{"database.synchronous": "off"})


def test_a_query_line_on_stdin_that_is_not_utf8_is_answered_with_an_error_and_the_rest_go_on(small):
    data, vault = small
    result = subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--data-dir", str(data), "--vault", str(vault),
                             "query", "-"], input=b"flange\n\xff\xfe gearbox\ngearbox\n", capture_output=True,
                            cwd=ROOT, env={**os.environ, "ATOCORE_CONFIG": os.devnull})
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [a.get("error") for a in answers] == [None, "the line is not valid UTF-8", None]
    assert answers[0]["results"] and answers[2]["results"]
