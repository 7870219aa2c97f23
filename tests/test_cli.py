import io
import json
import subprocess
import sys

import pytest

from atocore_tui.cli import main

from .conftest import ROOT


@pytest.fixture
def cli(tmp_path, vault):
    base = ["--data-dir", str(tmp_path / "data"), "--vault", str(vault)]

    def run(*args):
        return main([*base, *args])

    return run


def test_ingest_then_query_json(cli, capsys):
    assert cli("ingest", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ingested"] >= 25
    assert cli("query", "Braycote grease low temperature", "--top-k", "3", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["results"]) == 3
    hit = result["results"][0]
    assert set(hit) >= {"chunk_id", "content", "score", "heading_path", "source_file", "title"}


def test_query_reads_one_query_per_line_from_stdin(cli, capsys, monkeypatch):
    cli("ingest", "--json")
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("bearing preload\n\ncoolant glycol mix\n"))
    assert cli("query", "-", "--top-k", "2") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["query"] for line in lines] == ["bearing preload", "coolant glycol mix"]
    assert all(len(json.loads(line)["results"]) == 2 for line in lines)


def test_human_output_and_status(cli, capsys):
    cli("ingest")
    out = capsys.readouterr().out
    assert "files seen" in out and "skipped" in out
    cli("query", "cold plate pressure drop")
    assert "projects/coldplate/" in capsys.readouterr().out
    assert cli() == 0
    out = capsys.readouterr().out
    assert "documents" in out and "chunks" in out
    assert cli("status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["chunks"] > 0 and status["index"]["current"] is True


@pytest.mark.parametrize("args, code, message", [
    (("query", "   "), 2, "prompt must not be blank"),
    (("query", "x", "--top-k", "0"), 2, "top_k"),
    (("query", "x", "--project", "no-such-project"), 3, "unknown project"),
    (("ingest", "/etc"), 2, "outside the configured sources"),
    (("ingest", "missing/folder"), 3, "path not found"),
    (("ingest", "--project", "Bad Slug"), 2, "invalid project id"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(cli, capsys, args, code, message):
    assert cli(*args) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    cli("status", "--json")
    assert json.loads(capsys.readouterr().out)["documents"] == 0


def test_invalid_config_exits_with_file_and_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("ingest:\n  chunk_max_chars: many\n")
    assert main(["--config", str(config), "status"]) == 2
    assert f"{config}:2:" in capsys.readouterr().err


def test_missing_model_folder_exits_cleanly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ATOCORE_EMBEDDING_MODEL", str(tmp_path / "nope"))
    assert main(["--data-dir", str(tmp_path / "d"), "status"]) == 5
    assert "embedding model folder not found" in capsys.readouterr().err


def test_engine_and_cli_import_no_face_framework():
    code = ("import sys; import atocore_tui.cli, atocore_tui.engine; "
            "import atocore_tui.context.builder, atocore_tui.graph.service, atocore_tui.memory.review, "
            "atocore_tui.projects.registry, atocore_tui.interactions.log, atocore_tui.ops.backup, "
            "atocore_tui.ops.first_run; "
            "from atocore_tui.cli import main; "
            "print(sorted(m for m in sys.modules"
            " if m.split('.')[0] in ('textual', 'torch', 'fastapi', 'uvicorn', 'mcp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    assert out.strip() == "[]"


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("atocore-tui ")
