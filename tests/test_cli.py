import io
import json
import subprocess
import sys
import textwrap

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
    """Every module of the engine packages and of the CLI, found by walking the
    package (a new module is checked without editing this list)."""
    code = textwrap.dedent("""\
        import importlib, pkgutil, sys
        import atocore_tui
        FACES = ("tui", "server")
        names = []
        for top in pkgutil.iter_modules(atocore_tui.__path__, "atocore_tui."):
            if top.name.rsplit(".", 1)[1] in FACES:
                continue
            names.append(top.name)
            if top.ispkg:
                package = importlib.import_module(top.name)
                names += [m.name for m in pkgutil.walk_packages(package.__path__, top.name + ".")]
        names = [n for n in names if not n.endswith("__main__")]
        for name in names:
            importlib.import_module(name)
        from atocore_tui.cli import main
        assert "atocore_tui.ops.backup" in names and "atocore_tui.cli.graph" in names, names
        print(len(names), sorted(m for m in sys.modules
                                 if m.split(".")[0] in ("textual", "torch", "fastapi", "uvicorn", "mcp")))
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    count, imported = out.strip().split(" ", 1)
    assert int(count) > 50 and imported == "[]"


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "atocore_tui.cli", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("atocore-tui ")
