"""The interaction log: record (with reinforcement and extraction), list, get, the CLI."""

from __future__ import annotations

import json
import sys

import pytest

from atocore_tui.cli import main
from atocore_tui.engine import Engine
from atocore_tui.errors import NotFound, ValidationError
from atocore_tui.interactions import log as log_module
from atocore_tui.interactions.log import MAX_LIMIT, InteractionLog, normalise_since
from atocore_tui.store.models import Interaction, Memory, MemoryAudit, Project, ProjectAlias

from .conftest import make_settings


def add_projects() -> None:
    for project, alias in (("orion-drive", "odu"), ("coldplate", "cp-200")):
        Project.create(id=project)
        ProjectAlias.create(alias=alias, project=project)


@pytest.fixture
def log(engine):
    add_projects()
    return engine.interactions


def counts() -> tuple[int, int, int]:
    return Interaction.select().count(), Memory.select().count(), MemoryAudit.select().count()


@pytest.fixture
def clock(monkeypatch):
    """A controllable utc_now for the log: set ``clock.now`` to a timestamp."""

    class Clock:
        now = "2026-04-22 10:00:00"

    monkeypatch.setattr(log_module, "utc_now", lambda: Clock.now)
    return Clock


# -------------------------------------------------------------------- record

def test_record_and_get_round_trip_every_field(log):
    pack = {"formatted_context": "== project state ==", "chunks_used": 2}
    result = log.record("What grease do we use in the gearbox?", response="Braycote 601EF.",
                        response_summary="Braycote", project="odu", client="claude-code",
                        session_id=" s1 ", memories_used=["m1", "m1", "m2"], chunks_used=["c1"],
                        context_pack=pack)
    assert result["status"] == "recorded"
    assert set(result) >= {"id", "created_at", "reinforced", "candidates"}
    assert len(result["created_at"]) == 19 and result["created_at"][10] == " "
    full = log.get(result["id"])
    assert full == {"id": result["id"], "prompt": "What grease do we use in the gearbox?",
                    "response": "Braycote 601EF.", "response_summary": "Braycote",
                    "project": "orion-drive", "client": "claude-code", "session_id": "s1",
                    "memories_used": ["m1", "m2"], "chunks_used": ["c1"], "context_pack": pack,
                    "created_at": result["created_at"]}


def test_record_minimal_has_empty_defaults(log):
    result = log.record("Explain crossed-roller bearings.")
    full = log.get(result["id"])
    assert full["project"] == "" and full["response"] == "" and full["memories_used"] == []
    assert full["context_pack"] is None and result["reinforced"] == []


@pytest.mark.parametrize("kwargs, error, message", [
    ({"prompt": ""}, ValidationError, "prompt must not be blank"),
    ({"prompt": "   \n\t"}, ValidationError, "prompt must not be blank"),
    ({"prompt": None}, ValidationError, "prompt must not be blank"),
    ({"prompt": 42}, ValidationError, "prompt must not be blank"),
    ({"prompt": "ok", "project": "no-such-project"}, NotFound, "unknown project"),
    ({"prompt": "ok", "response": 3}, ValidationError, "response must be text"),
    ({"prompt": "ok", "client": ["x"]}, ValidationError, "client must be text"),
    ({"prompt": "ok", "memories_used": "abc"}, ValidationError, "memories_used must be a list"),
    ({"prompt": "ok", "memories_used": ["a", 7]}, ValidationError, "memories_used must contain only"),
    ({"prompt": "ok", "chunks_used": ["  "]}, ValidationError, "chunks_used must contain only"),
    ({"prompt": "ok", "chunks_used": {"a": 1}}, ValidationError, "chunks_used must be a list"),
    ({"prompt": "ok", "context_pack": {"x": object()}}, ValidationError, "context_pack must be JSON"),
    ({"prompt": "ok", "context_pack": float("nan")}, ValidationError, "context_pack must be JSON"),
])
def test_record_bad_input_writes_nothing(log, kwargs, error, message):
    before = counts()
    with pytest.raises(error, match=message):
        log.record(**kwargs)
    assert counts() == before


def test_record_reinforces_used_memories_in_the_same_transaction(log, engine):
    memory = engine.memories.create("project", "The gearbox ratio is 48:1 in two planetary stages.",
                                    project="orion-drive", confidence=0.5)
    result = log.record("What ratio?", response="Two stages, 48:1.", project="orion-drive",
                        memories_used=[memory.id])
    assert result["reinforced"] == [memory.id]
    row = Memory.get_by_id(memory.id)
    assert row.reference_count == 1 and row.confidence > 0.5 and row.last_referenced_at

    # no response: nothing to reinforce
    assert log.record("What ratio?", memories_used=[memory.id])["reinforced"] == []
    assert Memory.get_by_id(memory.id).reference_count == 1


def test_failed_reinforcement_rolls_the_record_back(log, engine, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine.memories, "reinforce", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        log.record("What ratio?", response="48:1")
    assert counts() == before


def test_record_extracts_candidates(log, engine):
    result = log.record("We decided to use Braycote 601EF for all gear meshes and bearings.",
                        response="Noted.", project="orion-drive", client="chat")
    assert len(result["candidates"]) == 1
    memory = engine.memories.get(result["candidates"][0])
    assert (memory.status, memory.memory_type, memory.project) == ("candidate", "project", "orion-drive")
    assert memory.source_interaction == result["id"] and memory.confidence < 1
    audit = engine.memories.audit(memory.id)
    assert [(a.action, a.actor) for a in audit] == [("create", "extractor")]


def test_extraction_on_record_can_be_switched_off(engine):
    add_projects()
    quiet = InteractionLog(engine, extract_on_record=False)
    result = quiet.record("I prefer SI units in every answer you give me.")
    assert result["candidates"] == [] and Memory.select().count() == 0


def test_extraction_failure_keeps_the_record(engine, tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import sys\nsys.exit(3)\n")
    failing = InteractionLog(engine, external_command=[sys.executable, str(script)])
    result = failing.record("I prefer SI units in every answer you give me.")
    assert "exited with 3" in result["extraction_error"]
    assert Interaction.get_or_none(Interaction.id == result["id"]) is not None
    assert Memory.select().count() == 0 and result["candidates"] == []


def test_extraction_setting_is_read_from_settings_when_present(engine):
    class Extraction:
        on_record = False
        command = "tool --json"
        timeout = 5.0

    engine.settings.extraction = Extraction()
    try:
        configured = InteractionLog(engine)
        assert configured.extract_on_record is False
        assert configured.extractor.external_command == ["tool", "--json"]
        assert configured.extractor.external_timeout == 5.0
    finally:
        del engine.settings.extraction


# ---------------------------------------------------------------------- list

def test_list_newest_first_and_equal_times_latest_record_first(log, clock):
    ids = []
    for n, stamp in enumerate(["2026-04-22 09:00:00", "2026-04-22 10:00:00", "2026-04-22 10:00:00",
                               "2026-04-22 10:00:00", "2026-04-21 23:59:59"]):
        clock.now = stamp
        ids.append(log.record(f"prompt {n}")["id"])
    listed = [item["id"] for item in log.entries()["interactions"]]
    assert listed == [ids[3], ids[2], ids[1], ids[0], ids[4]]
    assert listed == [item["id"] for item in log.entries()["interactions"]]  # stable


def test_since_is_inclusive_in_every_accepted_shape(log, clock):
    for stamp in ("2026-04-22 09:59:59", "2026-04-22 10:00:00", "2026-04-22 10:00:01"):
        clock.now = stamp
        log.record(f"at {stamp}")
    expected = ["2026-04-22 10:00:01", "2026-04-22 10:00:00"]
    for since in ("2026-04-22 10:00:00", "2026-04-22T10:00:00", "2026-04-22T10:00:00Z",
                  "2026-04-22T12:00:00+02:00", "2026-04-22T10:00:00.000Z", " 2026-04-22 10:00:00 "):
        assert [i["created_at"] for i in log.list(since=since)["interactions"]] == expected, since
    assert log.list(since="2026-04-22")["count"] == 3
    assert log.list(since="2026-04-23")["count"] == 0
    assert log.list(since="2026-04-22 10:00:02")["count"] == 0
    assert log.list(since="")["count"] == 3


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "2026-04-22T25:00:00", "22/04/2026",
                                   "2026-04-22 10", "2026-04-22X10:00:00", 20260422])
def test_bad_since_is_refused(log, since):
    with pytest.raises(ValidationError, match="since must be"):
        log.list(since=since)


def test_normalise_since_shapes():
    assert normalise_since(None) is None
    assert normalise_since("2026-04-22") == "2026-04-22 00:00:00"
    assert normalise_since("2026-04-22T23:30:00-01:00") == "2026-04-23 00:30:00"
    assert normalise_since("2026-04-22 08:05") == "2026-04-22 08:05:00"


def test_filters_project_alias_session_client_and_combined(log, clock):
    plan = [("orion-drive", "s1", "claude-code"), ("orion-drive", "s2", "chat"),
            ("coldplate", "s1", "chat"), ("", "s3", "chat"), ("coldplate", "s2", "claude-code")]
    for n, (project, session, client) in enumerate(plan):
        clock.now = f"2026-04-22 10:00:0{n}"
        log.record(f"prompt {n}", project=project, session_id=session, client=client)
    assert log.list(project="odu")["count"] == 2
    assert {i["project"] for i in log.list(project="coldplate")["interactions"]} == {"coldplate"}
    assert log.list(session_id="s1")["count"] == 2
    assert log.list(client="chat")["count"] == 3
    combined = log.list(project="cp-200", client="claude-code", since="2026-04-22 10:00:03")
    assert [i["prompt"] for i in combined["interactions"]] == ["prompt 4"]
    assert log.list(project="  ", session_id="", client=None)["count"] == 5
    with pytest.raises(NotFound, match="unknown project"):
        log.list(project="no-such-project")


def test_summary_shape_and_prompt_preview(log):
    long_prompt = "x" * 150 + " " + "y" * 300
    log.record(long_prompt, response_summary="short", memories_used=["a", "b"], chunks_used=["c"])
    summary = log.entries()["interactions"][0]
    assert set(summary) == {"id", "prompt", "response_summary", "project", "client", "session_id",
                            "created_at", "memories_used_count", "chunks_used_count"}
    assert len(summary["prompt"]) == 200 and summary["prompt"].endswith("…")
    assert (summary["memories_used_count"], summary["chunks_used_count"]) == (2, 1)
    log.record("short prompt")
    assert log.list(limit=1)["interactions"][0]["prompt"] == "short prompt"


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "10"])
def test_bad_limit_is_refused(log, limit):
    with pytest.raises(ValidationError, match="limit"):
        log.list(limit=limit)


def test_limit_above_the_hard_cap_is_capped(log):
    Interaction.insert_many([{"prompt": f"p{n}", "created_at": f"2026-04-22 10:{n // 60 % 60:02d}:{n % 60:02d}"}
                             for n in range(MAX_LIMIT + 5)]).execute()
    assert log.list(limit=501)["count"] == MAX_LIMIT
    assert log.list(limit=10_000)["count"] == MAX_LIMIT
    assert log.list(limit=3)["count"] == 3
    assert log.entries()["count"] == 50


def test_get_unknown_id(log):
    log.record("something")
    before = counts()
    for bad in ("no-such-id", "", None, 42, "abc"):
        with pytest.raises(NotFound, match="unknown interaction"):
            log.get(bad)
    assert counts() == before


def test_get_by_unique_id_prefix(log):
    Interaction.create(id="abcdef0001", prompt="first")
    Interaction.create(id="abcdef0002", prompt="second")
    assert log.get("ABCDEF0001 ")["prompt"] == "first"
    Interaction.create(id="123456789a", prompt="third")
    assert log.get("1234567")["prompt"] == "third"
    with pytest.raises(ValidationError, match="ambiguous"):
        log.get("abcdef")
    with pytest.raises(NotFound):
        log.get("abcde")  # too short for a prefix


# ----------------------------------------------------------------------- CLI

@pytest.fixture
def cli(tmp_path, vault):
    data = tmp_path / "cli-data"
    seeded = Engine(make_settings(data, vault))
    add_projects()
    seeded.close()
    base = ["--data-dir", str(data), "--vault", str(vault)]
    return lambda *args: main([*base, *args])


def test_cli_record_list_show_extract(cli, capsys):
    assert cli("interactions", "record", "--prompt", "Remember that 7075-T6 is prone to stress corrosion.",
               "--response", "Yes, use T73 where SCC matters.", "--project", "odu", "--client", "cli",
               "--session", "s9", "--memory-used", "m1", "m2", "--memory-used", "m3",
               "--chunk-used", "c1", "--json") == 0
    recorded = json.loads(capsys.readouterr().out)
    assert recorded["status"] == "recorded" and len(recorded["candidates"]) == 1

    assert cli("interactions", "list", "--project", "orion-drive", "--since", "2000-01-01", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 1 and listed["interactions"][0]["memories_used_count"] == 3

    assert cli("interactions", "show", recorded["id"], "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["memories_used"] == ["m1", "m2", "m3"] and shown["session_id"] == "s9"

    assert cli("interactions", "extract", recorded["id"], "--json") == 0
    assert json.loads(capsys.readouterr().out)["candidates"] == []  # already extracted
    assert cli("interactions", "extract", "--all", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["interactions"], summary["created"], summary["errors"]) == (1, 0, [])

    # human output
    for args in (("list",), ("show", recorded["id"]), ("extract", "--all")):
        assert cli("interactions", *args) == 0
    out = capsys.readouterr().out
    assert "stress corrosion" in out and "new candidate memories" in out


def test_cli_record_reads_stdin(cli, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("A prompt from a pipe"))
    assert cli("interactions", "record", "--prompt", "-", "--json") == 0
    recorded = json.loads(capsys.readouterr().out)
    cli("interactions", "show", recorded["id"], "--json")
    assert json.loads(capsys.readouterr().out)["prompt"] == "A prompt from a pipe"


@pytest.mark.parametrize("args, code, message", [
    (("record", "--prompt", "  "), 2, "prompt must not be blank"),
    (("record", "--prompt", "x", "--project", "nope"), 3, "unknown project"),
    (("record", "--prompt", "-", "--response", "-"), 2, "only one of"),
    (("list", "--limit", "0"), 2, "limit"),
    (("list", "--since", "soon"), 2, "since must be"),
    (("show", "no-such-id"), 3, "unknown interaction"),
    (("extract",), 2, "give an interaction id or --all"),
    (("extract", "abc", "--all"), 2, "give an interaction id or --all"),
    (("extract", "abc", "--since", "2026-01-01"), 2, "go with --all"),
    (("extract", "no-such-id"), 3, "unknown interaction"),
])
def test_cli_errors(cli, capsys, args, code, message):
    assert cli("interactions", *args) == code
    assert message in capsys.readouterr().err


def test_cli_list_caps_limit_and_says_nothing_when_empty(cli, capsys):
    assert cli("interactions", "list", "--limit", "501", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"count": 0, "interactions": []}
    assert cli("interactions", "list") == 0
    assert "no interactions" in capsys.readouterr().out

